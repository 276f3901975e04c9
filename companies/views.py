"""API of the companies app: /api/me/, /api/users/, /api/attendance/."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from companies import selectors, services
from companies.models import Attendance, CompanyPurge
from companies.serializers import (
    AttendanceSerializer,
    CompanyDeactivateSerializer,
    CompanyPurgeSerializer,
    CompanySettingsSerializer,
    CompanySettingsUpdateSerializer,
    MeSerializer,
    UserSerializer,
)
from workspace.api.exceptions import conflict
from workspace.api.filters import DateFilter, IdFilter
from workspace.api.permissions import IsCompanyMember, IsPlatformSuperuser
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
        try:
            attendance = services.attendance_check_in(user=request.user)
        except DjangoValidationError as exc:
            raise conflict(exc) from exc
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
        try:
            attendance = services.attendance_check_out(user=request.user)
        except DjangoValidationError as exc:
            raise conflict(exc) from exc
        return Response(AttendanceSerializer(attendance).data)


COMPANY_ADMINS = "Only a company admin can do this."


class CompanyView(APIView):
    """Your company and its lifecycle settings (docs/lifecycle.md)."""

    permission_classes = [IsCompanyMember]

    @extend_schema(
        operation_id="company_retrieve",
        summary="Your company, with its deletion delay",
        responses=responses({200: CompanySettingsSerializer}),
    )
    def get(self, request):
        return Response(CompanySettingsSerializer(request.user.company).data)

    @extend_schema(
        operation_id="company_partial_update",
        summary="Change your company's deletion delay (company admin)",
        request=CompanySettingsUpdateSerializer,
        responses=responses(
            {200: CompanySettingsSerializer},
            bad_request=validation_error("CompanyUpdateError", "deletion_delay_days"),
            forbidden=COMPANY_ADMINS,
            body=True,
        ),
    )
    def patch(self, request):
        if not request.user.is_company_admin:
            raise PermissionDenied(COMPANY_ADMINS)
        serializer = CompanySettingsUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = services.company_update(company=request.user.company, **serializer.validated_data)
        return Response(CompanySettingsSerializer(company).data)


class CompanyDeactivateView(APIView):
    permission_classes = [IsCompanyMember]

    @extend_schema(
        operation_id="company_deactivate",
        summary="Deactivate your company and schedule the purge of its data (company admin)",
        description="From this response on, nobody of the company can log in (every token is revoked, this "
        "one included) and nothing of it can be changed; its data is purged after `deletion_delay_days` "
        "(0 = at once). Until the purge starts, a platform administrator can reactivate it. `confirm_slug` "
        "must repeat the company's slug.",
        request=CompanyDeactivateSerializer,
        responses=responses(
            {202: CompanyPurgeSerializer},
            bad_request=validation_error("CompanyDeactivateError", "confirm_slug", "deletion_delay_days"),
            forbidden=COMPANY_ADMINS,
            body=True,
        ),
    )
    def post(self, request):
        if not request.user.is_company_admin:
            raise PermissionDenied(COMPANY_ADMINS)
        serializer = CompanyDeactivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = request.user.company
        if serializer.validated_data["confirm_slug"] != company.slug:
            raise ValidationError({"confirm_slug": ["This is not your company's slug."]})
        try:
            purge = services.company_deactivate(
                company=company,
                actor=request.user,
                deletion_delay_days=serializer.validated_data.get("deletion_delay_days"),
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(CompanyPurgeSerializer(purge).data, status=status.HTTP_202_ACCEPTED)


class CompanyPurgeListView(generics.ListAPIView):
    permission_classes = [IsPlatformSuperuser]
    serializer_class = CompanyPurgeSerializer
    filter_backends = []
    queryset = CompanyPurge.objects.order_by("-created_at", "-pk")

    @extend_schema(
        operation_id="company_purges_list",
        summary="Tenant purges, scheduled, running and finished, with their progress (platform superuser)",
        responses=responses(
            {200: CompanyPurgeSerializer(many=True)},
            forbidden="Platform superusers only.",
            not_found="Page out of range.",
        ),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CompanyPurgeDetailView(generics.RetrieveAPIView):
    permission_classes = [IsPlatformSuperuser]
    serializer_class = CompanyPurgeSerializer
    queryset = CompanyPurge.objects.all()

    @extend_schema(
        operation_id="company_purges_retrieve",
        summary="One tenant purge and its progress (platform superuser)",
        responses=responses({200: CompanyPurgeSerializer}, forbidden="Platform superusers only.", not_found=True),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
