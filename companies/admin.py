"""Admin for inspecting tenants, people and attendance (docs/integrity.md).

Writes go through companies.services; a company's delete page summarises
everything the cascade removes (set-based counts, no row loaded) and the
delete itself is the tenant purge (``company_purge``).
"""

import contextvars
import dataclasses

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.utils import quote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from companies import services
from companies.models import Attendance, Company, CompanyPurge, DeletionReceipt, User
from workspace.adminkit import (
    FixedOnChangeMixin,
    ImpactPreviewAdminMixin,
    IsNullFilter,
    TenantScopedAdmin,
    adopt,
    count_of,
    is_platform_user,
    related_model,
)
from workspace.db.lineage import cascade_counts, tenant_rows

#: Rows listed per table on a company's delete page (all are counted).
DELETE_PREVIEW = 10
#: User fields only a platform superuser may change (read-only for a
#: company's staff).
ESCALATION_FIELDS = ("is_superuser", "groups", "user_permissions")


@admin.register(Company)
class CompanyAdmin(TenantScopedAdmin, admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "created_at",
        "people",
        "channel_count",
        "meeting_count",
        "message_retention_days",
        "is_active",
        "purge_scheduled_for",
    ]
    search_fields = ["name", "slug"]
    list_filter = [("created_at", admin.DateFieldListFilter), "is_active"]
    date_hierarchy = "created_at"
    # Deactivation goes through its service (the actions below), never a checkbox.
    readonly_fields = ["created_at", "next_retention_run", "is_active", "deactivated_at", "purge_scheduled_for"]
    actions = ["deactivate_selected", "reactivate_selected"]
    prepopulated_fields = {"slug": ("name",)}
    ordering = ["name"]

    def get_queryset(self, request):
        # The channels and meetings are counted through the reverse relations
        # their apps declare (related names ``channels``, ``meetings``):
        # ``companies`` imports none of the apps above it.
        return (
            super()
            .get_queryset(request)
            .annotate(
                _people=count_of(User, "company"),
                _channels=count_of(related_model(Company, "channels"), "company"),
                _meetings=count_of(related_model(Company, "meetings"), "company"),
            )
        )

    # A company's staff sees (and with the permission edits) its own company
    # only (scoped by pk); creating a tenant or purging one is the platform's.
    def has_add_permission(self, request):
        return is_platform_user(request) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return is_platform_user(request) and super().has_delete_permission(request, obj)

    @admin.display(description="next retention run would delete")
    def next_retention_run(self, obj):
        """The retention preview (docs/lifecycle.md): exact counts per table
        of what the next run would delete, were it now."""
        from companies.hooks import retention_preview

        if obj is None or obj.pk is None:
            return "-"
        impact = retention_preview(company=obj)
        if impact is None:
            return "Nothing: retention is off (messages are kept)."
        counts = impact.counts()
        if not counts:
            return f"Nothing: no message older than {obj.message_retention_days} days."
        listed = ", ".join(f"{table}: {count}" for table, count in counts.items())
        return f"Messages created before {impact.parameters['cutoff']}: {listed}."

    @admin.display(description="people", ordering="_people")
    def people(self, obj):
        return obj._people

    @admin.display(description="channels", ordering="_channels")
    def channel_count(self, obj):
        return obj._channels

    @admin.display(description="meetings", ordering="_meetings")
    def meeting_count(self, obj):
        return obj._meetings

    def get_exclude(self, request, obj=None):
        # A new company gets the default delay (COMPANY_DELETION_DELAY_DAYS).
        return ["deletion_delay_days"] if obj is None else []

    def save_model(self, request, obj, form, change):
        if change:
            changes = {name: form.cleaned_data[name] for name in services.COMPANY_FIELDS if name in form.changed_data}
            services.company_update(company=obj, actor=request.user, **changes)
        else:
            adopt(obj, services.company_create(name=obj.name, slug=obj.slug))

    # --- Scheduled deletion (docs/lifecycle.md) ------------------------------

    @admin.action(description="Deactivate selected companies and schedule their purge", permissions=["purge"])
    def deactivate_selected(self, request, queryset):
        for company in queryset:
            try:
                purge = services.company_deactivate(company=company, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{company}: {'; '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{company}: deactivated, purge scheduled for {purge.scheduled_for:%Y-%m-%d %H:%M} UTC."
                )

    @admin.action(description="Reactivate selected companies (cancel their purge)", permissions=["purge"])
    def reactivate_selected(self, request, queryset):
        for company in queryset:
            try:
                services.company_reactivate(company=company, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{company}: {'; '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{company}: active again, purge cancelled.")

    def has_purge_permission(self, request):
        return is_platform_user(request)

    # --- Deleting a company is the tenant purge -----------------------------

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        if "delete_selected" in actions:
            label = "Purge selected companies and everything they own"
            actions["delete_selected"] = dataclasses.replace(
                actions["delete_selected"], description=label, plural_description=label
            )
        return actions

    def delete_model(self, request, obj):
        services.company_purge(company=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for company in list(queryset):
                services.company_purge(company=company, actor=request.user)

    def get_deleted_objects(self, objs, request):
        """What the cascade removes, per table: counted with one set-based
        query per table (the lineage's CASCADE paths), with the first rows of
        each table linked. Django's default would load every row of the
        tenant into memory first."""
        to_delete, model_count, perms_needed = [], {}, set()
        for company in objs:
            children = []
            for model, count in cascade_counts(company.pk).items():
                if model is Company or not count:
                    continue
                opts = model._meta
                plural = str(opts.verbose_name_plural)
                model_count[plural] = model_count.get(plural, 0) + count
                if self.admin_site.is_registered(model):
                    if not self.admin_site.get_model_admin(model).has_delete_permission(request):
                        perms_needed.add(opts.verbose_name)
                preview = [self._link(obj) for obj in tenant_rows(model, company.pk)[:DELETE_PREVIEW]]
                if count > len(preview):
                    preview.append(f"… and {count - len(preview)} more")
                children += [f"{capfirst(plural)}: {count}", preview]
            to_delete += [self._link(company), children]
        model_count = {str(Company._meta.verbose_name_plural): len(objs), **model_count}
        return to_delete, model_count, perms_needed, []

    def _link(self, obj):
        opts = obj._meta
        label = f"{capfirst(opts.verbose_name)}: {obj}"
        if not self.admin_site.is_registered(type(obj)):
            return label
        try:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
        except NoReverseMatch:
            return label
        return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, str(obj))


class WorkspaceUserCreationForm(AdminUserCreationForm):
    """A person belongs to a company; platform superusers (no company) are
    created with ``createsuperuser``."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "company", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "company" in self.fields:
            self.fields["company"].required = True


#: The admin user of the request being served, for the password form (which
#: Django's ``user_change_password`` builds without the request).
_password_actor: contextvars.ContextVar = contextvars.ContextVar("password_actor", default=None)


class WorkspacePasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password page through ``user_update`` (which revokes the
    person's API tokens, and checks who may change it)."""

    def save(self, commit=True):
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        return services.user_update(user=self.user, actor=_password_actor.get(), password=password)


class WorkspaceUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        # The company field is read-only once set, so Django skips the check
        # constraint that involves it: enforce it here (a form error, not an
        # IntegrityError).
        company = cleaned.get("company", self.instance.company)
        if company is None and "is_superuser" in cleaned and not cleaned["is_superuser"]:
            self.add_error("is_superuser", ValidationError("Only platform superusers may have no company."))
        return cleaned


class LastActiveFilter(IsNullFilter):
    title = "activity"
    parameter_name = "active"
    field = "last_active"
    null_label = "Never active"
    not_null_label = "Active at least once"


@admin.register(User)
class UserAdmin(ImpactPreviewAdminMixin, TenantScopedAdmin, BaseUserAdmin):
    form = WorkspaceUserChangeForm
    add_form = WorkspaceUserCreationForm
    change_password_form = WorkspacePasswordChangeForm
    list_display = [
        "username",
        "first_name",
        "last_name",
        "company",
        "role",
        "is_active",
        "is_staff",
        "last_active",
        "last_login",
        "date_joined",
    ]
    list_filter = [
        "company",
        "role",
        "is_active",
        "is_staff",
        "is_superuser",
        LastActiveFilter,
        ("last_active", admin.DateFieldListFilter),
        ("date_joined", admin.DateFieldListFilter),
    ]
    search_fields = ["username", "first_name", "last_name", "email", "company__name", "company__slug"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]
    readonly_fields = ["last_active", "last_login", "date_joined"]
    fieldsets = BaseUserAdmin.fieldsets + (("Workspace", {"fields": ("company", "role", "last_active")}),)
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "company", "role", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.company_id is not None:
            # Moving a person to another company would make all they wrote
            # cross-tenant: the company is fixed once set.
            fields.append("company")
        if not is_platform_user(request):
            # No escalation for a company's staff: superuser status, groups
            # and individual permissions are the platform's to grant.
            fields += [name for name in ESCALATION_FIELDS if name not in fields]
        return fields

    def has_change_permission(self, request, obj=None):
        # A superuser account (even one in a company) is not a company
        # staff member's to edit (password included).
        if obj is not None and obj.is_superuser and not is_platform_user(request):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not is_platform_user(request):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            changes = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in services.USER_FIELDS | {"company"}
            }
            services.user_update(user=obj, actor=request.user, **changes)
            return
        password = form.cleaned_data.get("password1") if form.cleaned_data.get("set_usable_password") else None
        adopt(
            obj,
            services.user_create(company=obj.company, username=obj.username, role=obj.role, password=password),
        )

    def user_change_password(self, request, id, form_url=""):
        token = _password_actor.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)

    def impact_for(self, obj):
        from companies.selectors import user_erase_preview

        return user_erase_preview(user=obj)

    def delete_model(self, request, obj):
        services.user_erase(user=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for user in list(queryset):
                services.user_erase(user=user, actor=request.user)


class OpenFilter(IsNullFilter):
    title = "status"
    parameter_name = "open"
    field = "check_out"
    null_label = "Open (checked in)"
    not_null_label = "Closed"


@admin.register(Attendance)
class AttendanceAdmin(TenantScopedAdmin, FixedOnChangeMixin, admin.ModelAdmin):
    list_display = ["user", "company", "check_in", "check_out", "is_open"]
    list_filter = ["company", OpenFilter, ("check_in", admin.DateFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "company__name"]
    list_select_related = ["user", "company"]
    autocomplete_fields = ["company", "user"]
    date_hierarchy = "check_in"
    fixed_on_change = ("company", "user")
    actions = ["check_out_now"]

    @admin.display(boolean=True, description="open")
    def is_open(self, obj):
        return obj.check_out is None

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class AttendanceForm(form):
            def clean(self):
                cleaned = super().clean()
                user = cleaned.get("user", self.instance.user if self.instance.user_id else None)
                check_in = cleaned.get("check_in", self.instance.check_in)
                if user is not None and check_in is not None and not self.errors:
                    # The database refuses overlaps on PostgreSQL only; the
                    # service's rule gives the same form error everywhere.
                    try:
                        services.attendance_validate_no_overlap(
                            user=user,
                            start=check_in,
                            end=cleaned.get("check_out"),
                            exclude_pk=self.instance.pk,
                        )
                    except ValidationError as error:
                        self.add_error(None, error.messages)
                return cleaned

        return AttendanceForm

    def save_model(self, request, obj, form, change):
        if change:
            changes = {name: getattr(obj, name) for name in ("check_in", "check_out") if name in form.changed_data}
            services.attendance_update(attendance=obj, actor=request.user, **changes)
        else:
            adopt(
                obj,
                services.attendance_record(
                    user=obj.user, check_in=obj.check_in, check_out=obj.check_out, actor=request.user
                ),
            )

    def delete_model(self, request, obj):
        services.attendance_delete(attendance=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for attendance in list(queryset):
                services.attendance_delete(attendance=attendance, actor=request.user)

    @admin.action(description="Check out the selected open attendances now")
    def check_out_now(self, request, queryset):
        done, failed = 0, []
        for attendance in queryset.filter(check_out__isnull=True).select_related("user"):
            try:
                services.attendance_check_out(user=attendance.user)
                done += 1
            except ValidationError as error:
                failed.append(f"{attendance.user}: {' '.join(error.messages)}")
        self.message_user(request, f"Checked out {done} attendance(s).", messages.SUCCESS)
        for line in failed:
            self.message_user(request, line, messages.ERROR)


@admin.register(DeletionReceipt)
class DeletionReceiptAdmin(TenantScopedAdmin, admin.ModelAdmin):
    """Deletion receipts, read-only (append-only in the model and, on
    PostgreSQL, in the database): a company's staff sees its own company's,
    superusers every receipt, including those of purged companies."""

    tenant_path = "company_id"
    list_display = ["created_at", "kind", "subject", "company_slug", "actor_username", "total_rows", "run", "batch"]
    list_filter = ["kind", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["subject", "company_slug", "company_name", "actor_username", "checksum"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "kind",
        "created_at",
        "company_id",
        "company_name",
        "company_slug",
        "subject",
        "actor_id",
        "actor_username",
        "counts",
        "detached",
        "checksums",
        "checksum",
        "run",
        "batch",
        "parameters",
    ]

    @admin.display(description="rows deleted")
    def total_rows(self, obj):
        return obj.total

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CompanyPurge)
class CompanyPurgeAdmin(admin.ModelAdmin):
    """Purges scheduled, running and finished, with their progress (read-only:
    they are driven by the deactivation actions and the job worker)."""

    list_display = [
        "company_slug",
        "status",
        "mode",
        "progress",
        "phase",
        "batches",
        "max_batch_ms",
        "scheduled_for",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "mode"]
    search_fields = ["company_slug", "company_name"]
    readonly_fields = [f.name for f in CompanyPurge._meta.fields] + ["progress", "per_table"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return is_platform_user(request) and super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return is_platform_user(request) and super().has_module_permission(request)

    @admin.display(description="progress")
    def progress(self, obj):
        return format_html(
            '<progress value="{}" max="100" style="width:10em"></progress> {}% ({} / {} rows)',
            obj.percent,
            obj.percent,
            obj.deleted_rows,
            obj.total_rows,
        )

    @admin.display(description="rows per table (deleted / at start)")
    def per_table(self, obj):
        from django.utils.html import format_html_join

        labels = sorted(set(obj.totals) | set(obj.deleted))
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{} / {}</td></tr>",
                ((label, obj.deleted.get(label, 0), obj.totals.get(label, 0)) for label in labels),
            ),
        )
