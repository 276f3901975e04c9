"""API of the companies app: /api/me/, /api/users/, /api/attendance/."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from companies import selectors, services
from companies.models import Attendance
from companies.serializers import AttendanceSerializer, MeSerializer, UserSerializer
from workspace.api.filters import DateFilter, IdFilter
from workspace.api.permissions import IsCompanyMember
from workspace.api.schema import responses, validation_error


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_retrieve",
        summary="The authenticated user, with their company",
        responses=responses({200: MeSerializer}, forbidden=False),
    )
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class UserListView(generics.ListAPIView):
    permission_classes = [IsCompanyMember]
    serializer_class = UserSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.user_list(user=self.request.user)

    @extend_schema(
        summary="People of your company",
        responses=responses({200: UserSerializer(many=True)}, not_found="Page out of range."),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class UserDetailView(generics.RetrieveAPIView):
    permission_classes = [IsCompanyMember]
    serializer_class = UserSerializer

    def get_queryset(self):
        return selectors.user_list(user=self.request.user)

    @extend_schema(summary="One person of your company", responses=responses({200: UserSerializer}, not_found=True))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AttendanceFilter(django_filters.FilterSet):
    date = DateFilter(
        field_name="check_in", lookup_expr="date", help_text="Attendances checked in on this day (UTC)."
    )
    user = IdFilter(field_name="user_id", help_text="Only this person's (company admins see everyone's).")

    class Meta:
        model = Attendance
        fields = ["date", "user"]


class AttendanceListView(generics.ListAPIView):
    permission_classes = [IsCompanyMember]
    serializer_class = AttendanceSerializer
    filterset_class = AttendanceFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Attendance.objects.none()
        return selectors.attendance_list(user=self.request.user)

    @extend_schema(
        summary="Attendances: yours, or your company's for an admin",
        responses=responses(
            {200: AttendanceSerializer(many=True)},
            bad_request=validation_error("AttendanceListError", "date", "user"),
            not_found="Page out of range.",
        ),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AttendanceCheckInView(APIView):
    permission_classes = [IsCompanyMember]

    @extend_schema(
        operation_id="attendance_check_in",
        summary="Check in now",
        request=None,
        responses=responses(
            {201: AttendanceSerializer},
            conflict=validation_error("AttendanceCheckInConflict", "check_in"),
        ),
    )
    def post(self, request):
        attendance = services.attendance_check_in(user=request.user)
        return Response(AttendanceSerializer(attendance).data, status=status.HTTP_201_CREATED)


class AttendanceCheckOutView(APIView):
    permission_classes = [IsCompanyMember]

    @extend_schema(
        operation_id="attendance_check_out",
        summary="Check out of your open attendance now",
        request=None,
        responses=responses(
            {200: AttendanceSerializer},
            conflict=validation_error("AttendanceCheckOutConflict", "check_out"),
        ),
    )
    def post(self, request):
        attendance = services.attendance_check_out(user=request.user)
        return Response(AttendanceSerializer(attendance).data)
