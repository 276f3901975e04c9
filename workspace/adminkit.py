"""Small helpers shared by the apps' admin modules (docs/integrity.md).

The admin writes through the services like every other caller: a ModelAdmin
validates the form (the model's ``clean()`` checks tenant consistency and the
named constraints, so a cross-tenant pick is a form error), then calls the
service and adopts the row it wrote.

Tenant scoping (docs/architecture.md, "Admin tenant scoping"): every
ModelAdmin and inline is a :class:`TenantScopedAdmin` /
:class:`TenantScopedInline`; a staff user who belongs to a company sees and
edits only that company's rows, platform superusers (company NULL) see all.
Admins registered by other packages (auth's groups, DRF's tokens) are wrapped
the same way by :func:`scope_admin_site` (``WorkspaceConfig.ready``).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import NestedObjects, get_fields_from_path, quote
from django.core.exceptions import ValidationError
from django.db import models, router
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from workspace.db.lineage import tenant_lookup
from workspace.db.writes import Forbidden

#: What a service raises when it refuses a write (workspace/db/writes.py).
SERVICE_ERRORS = (ValidationError, Forbidden)


def adopt(target: models.Model, source: models.Model) -> None:
    """Make the admin's (unsaved) form instance the row a service created,
    so the admin's log entry and redirect refer to it."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


def related_model(model: type[models.Model], related_name: str) -> type[models.Model]:
    """The model on the other side of ``model``'s reverse relation
    ``related_name`` (``related_model(Company, "channels")`` is ``Channel``):
    how a lower app's admin counts the rows of the apps above it without
    importing them."""
    return model._meta.get_field(related_name).related_model


def count_of(model: type[models.Model], fk: str):
    """``COUNT`` of ``model`` rows per parent as a correlated subquery: one
    query for the whole changelist, no join fan-out between several counts."""
    rows = model._base_manager.filter(**{fk: OuterRef("pk")}).order_by().values(fk).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows), 0)


def service_error_messages(exc: ValidationError | Forbidden) -> list[str]:
    if isinstance(exc, Forbidden):
        return [exc.message]
    return list(exc.messages)


def add_service_error(form, exc: ValidationError | Forbidden) -> None:
    """``exc`` on ``form``: on the field it names when the form shows that
    field, else as an error of the form as a whole."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            shown = field in form.fields and not form.fields[field].disabled
            form.add_error(field if shown else None, ValidationError(errors))
    else:
        form.add_error(None, service_error_messages(exc))


class ServiceErrorsAsFormErrors:
    """A service's refusal while the admin saves (a permission rule of the
    services, a conflict, a row gone meanwhile...) is shown like any form
    error, never a 500 (docs/architecture.md, "Permissions").

    The admin validates the form, then calls the services from
    ``save_model``/``save_formset``, inside the transaction of
    ``changeform_view``. When a service raises, that transaction is rolled
    back (nothing of the save is left, the log entry included) and the page is
    rendered again from the same POST, with the error added to the main form
    by its ``clean()``. On the delete page and for changelist actions, the
    error is a message and the page is shown again.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SERVICE_ERRORS as exc:
            if request.method != "POST" or getattr(request, "_service_error", None) is not None:
                raise
            request._service_error = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form_class

        class RefusedByService(form_class):
            def clean(self):
                cleaned = super().clean()
                add_service_error(self, error)
                return cleaned

        RefusedByService.__name__ = form_class.__name__
        return RefusedByService

    def _refused(self, request, exc):
        for line in service_error_messages(exc):
            self.message_user(request, line, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except SERVICE_ERRORS as exc:
            if request.method != "POST":
                raise
            return self._refused(request, exc)

    def response_action(self, request, queryset, *args, **kwargs):
        try:
            return super().response_action(request, queryset, *args, **kwargs)
        except SERVICE_ERRORS as exc:
            return self._refused(request, exc)


class FixedOnChangeMixin:
    """Fields that define which tenant (or parent) a row belongs to are set
    when it is created and read-only afterwards: moving a channel or a person
    to another company would make everything below it cross-tenant."""

    fixed_on_change: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [name for name in self.fixed_on_change if name not in fields]
        return fields


class ChangeViewInlinesMixin:
    """Inlines only on the change page: on the add page the parent has no id
    yet, so a child's tenant check would have nothing to compare with."""

    def get_inlines(self, request, obj):
        return super().get_inlines(request, obj) if obj is not None else []


class IsNullFilter(admin.SimpleListFilter):
    """Yes/no filter on ``<field> IS NULL``; subclass with ``field``,
    ``title``, ``parameter_name`` and the two labels."""

    field = ""
    null_label = "Empty"
    not_null_label = "Set"

    def lookups(self, request, model_admin):
        return (("null", self.null_label), ("set", self.not_null_label))

    def queryset(self, request, queryset):
        if self.value() == "null":
            return queryset.filter(**{f"{self.field}__isnull": True})
        if self.value() == "set":
            return queryset.filter(**{f"{self.field}__isnull": False})
        return queryset


# --- Tenant scoping ----------------------------------------------------------


def is_platform_user(request) -> bool:
    """A platform superuser: no company, sees every tenant."""
    user = request.user
    return bool(user.is_active and user.is_superuser and getattr(user, "company_id", None) is None)


def request_company_id(request) -> int | None:
    """The company the request's user is confined to (None for a platform
    superuser, and for a user with no company who is no superuser: such a
    user is confined to nothing, see :func:`scope_to_tenant`)."""
    return getattr(request.user, "company_id", None)


def scope_to_tenant(queryset, request, path: str | None):
    """``queryset`` restricted to the request's tenant through the lookup
    ``path`` (e.g. ``"channel__company"``; ``"pk"`` for companies). A model
    without a path (groups, permissions) is global: nothing for a tenant."""
    if is_platform_user(request):
        return queryset
    company_id = request_company_id(request)
    if company_id is None or not path:
        return queryset.none()
    return queryset.filter(**{path: company_id})


class TenantRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A relation filter whose choices are the request's tenant's objects
    only (Django's lists every row of the related table: every company,
    every channel)."""

    def field_choices(self, field, request, model_admin):
        if is_platform_user(request):
            return super().field_choices(field, request, model_admin)
        remote = field.remote_field.model
        ordering = self.field_admin_ordering(field, request, model_admin)
        allowed = scope_to_tenant(remote._default_manager.all(), request, tenant_lookup(remote))
        return field.get_choices(
            include_blank=False, limit_choices_to={"pk__in": allowed.values("pk")}, ordering=ordering
        )


class _TenantFormfieldsMixin:
    """FK and M2M choices of the admin's forms (and of its autocomplete
    widgets' validation) limited to the request's tenant."""

    def _scope_formfield(self, formfield, db_field, request):
        if formfield is None or not hasattr(formfield, "queryset") or is_platform_user(request):
            return formfield
        remote = db_field.remote_field.model
        path = tenant_lookup(remote)
        if path is not None:  # global models (groups, permissions): see TenantScopedUserAdminMixin
            formfield.queryset = scope_to_tenant(formfield.queryset, request, path)
        return formfield

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return self._scope_formfield(formfield, db_field, request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        return self._scope_formfield(formfield, db_field, request)


class TenantScopedAdmin(ServiceErrorsAsFormErrors, _TenantFormfieldsMixin):
    """Mixin for every ModelAdmin: rows, objects, filters, form choices,
    actions and delete previews confined to the request's tenant.

    ``tenant_path`` is the ORM lookup from the model to its company's id;
    by default the shortest FK path (:func:`workspace.db.lineage.tenant_lookup`:
    ``company``, ``channel__company``, ``meeting__company``, ``pk`` for
    ``Company``). A model with no path is global (groups): a company's staff
    gets no access to it at all.
    """

    tenant_path: str | None = None
    #: False for admins of other packages (wrapped by scope_admin_site):
    #: their forms were not reviewed for escalation (a token minted for a
    #: colleague is impersonation), so a company's staff may view and delete
    #: (revoke) there, not add or change.
    tenant_staff_can_write: bool = True

    def get_tenant_path(self) -> str | None:
        return self.tenant_path if self.tenant_path is not None else tenant_lookup(self.model)

    def is_global_for(self, request) -> bool:
        """A global model seen by a tenant's staff: no permission at all."""
        return not is_platform_user(request) and self.get_tenant_path() is None

    # Rows: the changelist, search, date hierarchy, actions, autocomplete
    # (the related model's admin answers it) and object lookups all start here.
    def get_queryset(self, request):
        return scope_to_tenant(super().get_queryset(request), request, self.get_tenant_path())

    def get_object(self, request, object_id, from_field=None):
        """Another tenant's object is a 404 on the change, delete, history
        (and password) pages, the same as a missing one; Django would
        redirect to the index with "doesn't exist"."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} matches the given query.")
        return obj

    def has_view_permission(self, request, obj=None):
        return not self.is_global_for(request) and super().has_view_permission(request, obj)

    def _may_write(self, request) -> bool:
        return not self.is_global_for(request) and (self.tenant_staff_can_write or is_platform_user(request))

    def has_change_permission(self, request, obj=None):
        return self._may_write(request) and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return self._may_write(request) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return not self.is_global_for(request) and super().has_delete_permission(request, obj)

    def get_list_filter(self, request):
        return [self._tenant_filter(item) for item in super().get_list_filter(request)]

    def _tenant_filter(self, item):
        if isinstance(item, str):
            path, filter_class = item, None
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            path, filter_class = item
        else:
            return item  # a SimpleListFilter: lists no rows of other tables
        if filter_class not in (None, admin.RelatedFieldListFilter):
            return item
        try:
            field = get_fields_from_path(self.model, path)[-1]
        except Exception:
            return item
        if not field.is_relation:
            return item
        return (path, TenantRelatedFieldListFilter)

    def get_deleted_objects(self, objs, request):
        """Django's delete preview, but for a tenant's staff every collected
        row is checked against the tenant (one query per table): a row of
        another company is neither shown nor counted, and its presence
        refuses the delete (it is listed as protected). Tenant consistency
        makes this impossible on a healthy database; the guard keeps a
        drifted one from leaking or losing another tenant's rows."""
        if is_platform_user(request):
            return super().get_deleted_objects(objs, request)
        company_id = request_company_id(request)
        try:
            first = objs[0]
        except IndexError:
            return [], {}, set(), []
        collector = NestedObjects(using=router.db_for_write(first._meta.model), origin=objs)
        collector.collect(objs)

        foreign: set[tuple[type, object]] = set()
        for model, instances in collector.model_objs.items():
            path = tenant_lookup(model)
            pks = [obj.pk for obj in instances]
            if path is None or not pks:
                continue
            outside = model._base_manager.filter(pk__in=pks).exclude(**{path: company_id})
            foreign.update((model, pk) for pk in outside.values_list("pk", flat=True))

        perms_needed = set()
        site = self.admin_site

        def format_callback(obj):
            opts = obj._meta
            if (type(obj), obj.pk) in foreign:
                return f"{capfirst(opts.verbose_name)}: (a row of another company)"
            label = f"{capfirst(opts.verbose_name)}: {obj}"
            if not site.is_registered(type(obj)):
                return label
            if not site.get_model_admin(type(obj)).has_delete_permission(request, obj):
                perms_needed.add(opts.verbose_name)
            try:
                url = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
            except NoReverseMatch:
                return label
            return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, str(obj))

        to_delete = collector.nested(format_callback)
        protected = [format_callback(obj) for obj in collector.protected]
        if foreign:
            protected.append(f"{len(foreign)} row(s) of another company would be removed too: refused.")
        model_count = {}
        for model, instances in collector.model_objs.items():
            mine = sum(1 for obj in instances if (model, obj.pk) not in foreign)
            if mine:
                model_count[model._meta.verbose_name_plural] = mine
        return to_delete, model_count, perms_needed, protected


class TenantScopedInline(_TenantFormfieldsMixin):
    """Mixin for every inline: its rows and its FK choices confined to the
    request's tenant (the parent object already is)."""

    tenant_path: str | None = None

    def get_queryset(self, request):
        path = self.tenant_path if self.tenant_path is not None else tenant_lookup(self.model)
        return scope_to_tenant(super().get_queryset(request), request, path)


def _scoped_class(cls: type, mixin: type) -> type:
    return type(cls.__name__, (mixin, cls), {"__module__": cls.__module__, "__doc__": cls.__doc__})


def scope_admin_site(site: admin.AdminSite) -> list[str]:
    """Wrap every registered ModelAdmin (and its inlines) that is not
    tenant-scoped yet (admins of other packages: auth's groups, DRF's
    tokens, ...) in the scoping mixins; returns the labels wrapped. Called
    once the admin modules are imported (``WorkspaceConfig.ready``), so a
    model registered by a package added later is scoped too."""
    wrapped = []
    for model, model_admin in list(site._registry.items()):
        cls = type(model_admin)
        inlines = list(getattr(cls, "inlines", []))
        scoped_inlines = [
            inline if issubclass(inline, TenantScopedInline) else _scoped_class(inline, TenantScopedInline)
            for inline in inlines
        ]
        if isinstance(model_admin, TenantScopedAdmin) and scoped_inlines == inlines:
            continue
        if isinstance(model_admin, TenantScopedAdmin):
            new_cls = cls
        else:
            new_cls = _scoped_class(cls, TenantScopedAdmin)
            new_cls.tenant_staff_can_write = False
        if scoped_inlines != inlines:
            new_cls = type(new_cls.__name__, (new_cls,), {"__module__": cls.__module__, "inlines": scoped_inlines})
        site.unregister(model)
        site.register(model, new_cls)
        wrapped.append(model._meta.label)
    return wrapped


class ImpactPreviewAdminMixin:
    """The delete confirmation page as an impact preview (docs/lifecycle.md,
    "Impact previews"): exact counts per table of what the delete service
    removes, and of the rows it detaches (SET NULL), computed set-based by the
    object's ``impact_for(obj)`` (workspace/db/impact.py): one COUNT
    per table whatever the size, where Django's default (the collector)
    loads every row that would go. Put it before ``TenantScopedAdmin``.

    For a tenant's staff, a table holding a row of another company among
    those that would go refuses the delete (listed as protected), as in
    :meth:`TenantScopedAdmin.get_deleted_objects`; a healthy database never
    has one (tenant consistency).
    """

    def impact_for(self, obj):  # pragma: no cover - each admin defines it
        raise NotImplementedError

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = [], {}, set(), []
        company_id = None if is_platform_user(request) else request_company_id(request)
        site = self.admin_site
        for obj in objs:
            impact = self.impact_for(obj)
            lines = []
            for model, queryset in impact.deleted.items():
                path = tenant_lookup(model)
                if company_id is not None and path:
                    # A tenant's staff: their company's rows only are shown
                    # and counted; another company's refuses the delete.
                    if queryset.exclude(**{path: company_id}).exists():
                        protected.append(
                            f"{capfirst(model._meta.verbose_name_plural)}: a row of another company "
                            "would be removed too: refused."
                        )
                    queryset = queryset.filter(**{path: company_id})
                count = queryset.count()
                if not count or model is type(obj):
                    continue
                plural = str(model._meta.verbose_name_plural)
                model_count[plural] = model_count.get(plural, 0) + count
                lines.append(f"{capfirst(plural)} ({model._meta.db_table}): {count}")
                if site.is_registered(model) and not site.get_model_admin(model).has_delete_permission(request):
                    perms_needed.add(model._meta.verbose_name)
            for key, count in impact.detached().items():
                lines.append(f"Detached, kept with {key} set to NULL: {count}")
            to_delete += [self._impact_link(obj), lines]
        plural = str(self.model._meta.verbose_name_plural)
        return to_delete, {plural: len(objs), **model_count}, perms_needed, protected

    def _impact_link(self, obj):
        opts = obj._meta
        try:
            url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
        except NoReverseMatch:
            return f"{capfirst(opts.verbose_name)}: {obj}"
        return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, str(obj))
