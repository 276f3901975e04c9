"""API of the companies app: /api/me/, /api/users/, /api/attendance/."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from companies import selectors, services
from companies.models import Attendance, Company, CompanyPurge, DeletionReceipt
from companies.serializers import (
    AttendanceSerializer,
    CompanyDeactivateSerializer,
    CompanyPurgeSerializer,
    CompanySettingsSerializer,
    CompanySettingsUpdateSerializer,
    DeletionReceiptSerializer,
    ImpactSerializer,
    MeSerializer,
    RetentionPreviewQuerySerializer,
    RetentionPreviewSerializer,
    UserSerializer,
    retention_preview_data,
)
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
    date = DateFilter(field_name="check_in", lookup_expr="date", help_text="Attendances checked in on this day (UTC).")
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


# --- Data lifecycle: settings (retention), previews, receipts ---------------
# docs/api.md, "Data lifecycle"; docs/lifecycle.md.

COMPANY_ADMINS = services.COMPANY_EDITORS  # the service rule's message


def _require_company_admin(request) -> None:
    """The company's settings and previews are its admins' (the service rule)."""
    services.company_authorize_edit(company_id=request.user.company_id, actor=request.user)


class CompanySettingsView(APIView):
    permission_classes = [IsCompanyMember]

    def _company(self, request) -> Company:
        company = Company.objects.filter(pk=request.user.company_id).first()
        if company is None:
            raise NotFound("No such company.")
        return company

    @extend_schema(
        operation_id="company_retrieve",
        summary="Your company's settings and lifecycle, with what the next retention run would delete (company admins)",
        responses=responses({200: CompanySettingsSerializer}, forbidden=COMPANY_ADMINS),
    )
    def get(self, request):
        _require_company_admin(request)
        return Response(CompanySettingsSerializer(self._company(request)).data)

    @extend_schema(
        operation_id="company_partial_update",
        summary="Set the message retention (days, or null: keep) and the deletion delay (company admins)",
        request=CompanySettingsUpdateSerializer,
        responses=responses(
            {200: CompanySettingsSerializer},
            bad_request=validation_error("CompanySettingsError", "message_retention_days", "deletion_delay_days"),
            forbidden=COMPANY_ADMINS,
            body=True,
        ),
    )
    def patch(self, request):
        # The service's rule, asked before the body is validated.
        services.company_authorize_edit(company_id=request.user.company_id, actor=request.user)
        serializer = CompanySettingsUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        company = services.company_update(
            company=self._company(request), actor=request.user, **serializer.validated_data
        )
        return Response(CompanySettingsSerializer(company).data)


class RetentionPreviewView(APIView):
    permission_classes = [IsCompanyMember]

    @extend_schema(
        operation_id="company_retention_preview",
        summary="What a retention of `days` (default: the current setting) would delete now (company admins)",
        parameters=[RetentionPreviewQuerySerializer],
        responses=responses(
            {200: RetentionPreviewSerializer},
            bad_request=validation_error("RetentionPreviewError", "days"),
            forbidden=COMPANY_ADMINS,
        ),
    )
    def get(self, request):
        from companies.hooks import retention_preview

        _require_company_admin(request)
        query = RetentionPreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        company = Company.objects.filter(pk=request.user.company_id).first()
        if company is None:
            raise NotFound("No such company.")
        impact = retention_preview(company=company, days=query.validated_data.get("days"))
        return Response(retention_preview_data(impact))


class CompanyPurgePreviewView(APIView):
    permission_classes = [IsCompanyMember]

    @extend_schema(
        operation_id="company_purge_preview",
        summary="What purging your company would delete, per table (company admins)",
        responses=responses({200: ImpactSerializer}, forbidden=COMPANY_ADMINS),
    )
    def get(self, request):
        _require_company_admin(request)
        company = Company.objects.filter(pk=request.user.company_id).first()
        if company is None:
            raise NotFound("No such company.")
        return Response(selectors.company_purge_preview(company=company).as_dict())


class UserErasePreviewView(APIView):
    permission_classes = [IsCompanyMember]

    @extend_schema(
        operation_id="users_erase_preview",
        summary="What erasing this person would delete, per table (company admins)",
        responses=responses({200: ImpactSerializer}, forbidden=COMPANY_ADMINS, not_found=True),
    )
    def get(self, request, pk):
        _require_company_admin(request)
        user = selectors.user_list(user=request.user).filter(pk=pk).first()
        if user is None:
            raise NotFound("No such user.")
        return Response(selectors.user_erase_preview(user=user).as_dict())


class DeletionReceiptListView(generics.ListAPIView):
    permission_classes = [IsCompanyMember]
    serializer_class = DeletionReceiptSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return DeletionReceipt.objects.none()
        _require_company_admin(self.request)
        return selectors.receipt_list(company_id=self.request.user.company_id)

    @extend_schema(
        operation_id="company_deletion_receipts",
        summary="Deletion receipts of your company, newest first (company admins)",
        responses=responses(
            {200: DeletionReceiptSerializer(many=True)}, forbidden=COMPANY_ADMINS, not_found="Page out of range."
        ),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


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
        # The service's rule, asked before the body is validated.
        services.company_authorize_edit(company_id=request.user.company_id, actor=request.user)
        serializer = CompanyDeactivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = request.user.company
        if serializer.validated_data["confirm_slug"] != company.slug:
            raise ValidationError({"confirm_slug": ["This is not your company's slug."]})
        purge = services.company_deactivate(
            company=company,
            actor=request.user,
            deletion_delay_days=serializer.validated_data.get("deletion_delay_days"),
        )
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
