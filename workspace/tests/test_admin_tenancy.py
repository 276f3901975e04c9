"""The admin is tenant-scoped (issue #10; docs/architecture.md, "Admin tenant
scoping"): a staff member of company A — holding every permission — sees and
edits only A's rows on every page of every registered model; B's objects are
404; platform superusers (no company) see all.

The matrix iterates ``admin.site._registry``: a model registered later (by an
app or a package) is covered without touching this file.
"""

import pytest
from django.contrib import admin
from django.contrib.admin import RelatedFieldListFilter
from django.contrib.admin.utils import quote
from django.urls import reverse

from workspace.db.lineage import tenant_lookup
from workspace.tests.admin_forms import admin_form_data

REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)
# The global job models (tenant purges, queued jobs) need a row too.
pytestmark = pytest.mark.usefixtures("job_rows")
LABEL = {"ids": lambda m: m._meta.label}


def _admin(model):
    return admin.site._registry[model]


def _path(model):
    model_admin = _admin(model)
    return model_admin.get_tenant_path() if hasattr(model_admin, "get_tenant_path") else tenant_lookup(model)


def _url(model, view, *args):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _rows(model, tenant):
    """``model``'s rows of ``tenant``, made if the fixture tenant has none
    (a model registered by a package: a row per person, e.g. a token)."""
    rows = model._default_manager.filter(**{_path(model): tenant.company.pk})
    if not rows.exists() and any(f.name == "user" for f in model._meta.fields):
        model._default_manager.create(user=tenant.admin)
    assert rows.exists(), f"no {model._meta.label} row in the fixture tenant: extend build_populated_tenant"
    return rows


def _pks(queryset):
    return set(queryset.values_list("pk", flat=True))


def _obj_id(model, obj):
    """The id the admin's URLs use for ``obj`` (``obj.pk``: DRF's token proxy
    answers its user's id there, as its admin's URLs do)."""
    return quote(obj.pk)


def _key(obj):
    return getattr(obj, obj._meta.pk.attname)


def _tenant_objects(model, tenant):
    return model._default_manager.filter(**{_path(model): tenant.company.pk})


# --- Every registered model: list, change, delete, history ---------------------


@pytest.mark.parametrize("model", REGISTERED, **LABEL)
def test_changelist_lists_only_the_staff_members_company(staff_client, tenant_pair, model):
    a, b = tenant_pair
    response = staff_client.get(_url(model, "changelist"))
    if _path(model) is None:  # global (groups): no access for a company's staff
        assert response.status_code == 403
        return
    assert response.status_code == 200
    shown = _pks(response.context["cl"].queryset)
    assert shown == _pks(_rows(model, a))
    assert not shown & _pks(_rows(model, b))


@pytest.mark.parametrize("model", REGISTERED, **LABEL)
@pytest.mark.parametrize("page", ["change", "delete", "history"])
def test_another_tenants_object_is_404(staff_client, tenant_pair, model, page):
    a, b = tenant_pair
    if _path(model) is None:
        objects = [model._default_manager.order_by("pk").first()]
        assert objects[0] is not None, f"no {model._meta.label} row"
    else:
        objects = list(_rows(model, b).order_by("pk")[:3])
    for obj in objects:
        url = _url(model, page, _obj_id(model, obj))
        assert staff_client.get(url).status_code == 404, url
        assert staff_client.post(url, {"post": "yes"}).status_code == 404, url
    assert model._default_manager.filter(pk__in=[_key(o) for o in objects]).count() == len(objects)


@pytest.mark.parametrize("model", REGISTERED, **LABEL)
@pytest.mark.parametrize("page", ["change", "delete", "history"])
def test_a_missing_object_is_404_like_another_tenants(staff_client, platform_client, model, page):
    pk = 987654321 if model._meta.pk.get_internal_type().endswith("AutoField") else "no-such-object"
    for client in (staff_client, platform_client):
        assert client.get(_url(model, page, pk)).status_code == 404


@pytest.mark.parametrize("model", [m for m in REGISTERED if tenant_lookup(m) is not None], **LABEL)
def test_own_objects_open(staff_client, tenant_pair, model):
    a, _ = tenant_pair
    obj = _rows(model, a).order_by("pk").first()
    for page in ("change", "history", "delete"):
        response = staff_client.get(_url(model, page, _obj_id(model, obj)))
        if page == "delete" and not _admin(model).has_delete_permission(_request_of(response), obj):
            assert response.status_code == 403  # e.g. a company: the purge is the platform's
        else:
            assert response.status_code == 200, page


def _request_of(response):
    return response.wsgi_request


@pytest.mark.parametrize("model", REGISTERED, **LABEL)
def test_platform_superuser_sees_every_tenant(platform_client, tenant_pair, model):
    a, b = tenant_pair
    response = platform_client.get(_url(model, "changelist"))
    assert response.status_code == 200
    shown = _pks(response.context["cl"].queryset)
    if _path(model) is None:
        assert shown == _pks(model._default_manager.all())
        return
    assert _pks(_rows(model, a)) <= shown and _pks(_rows(model, b)) <= shown
    obj = _rows(model, b).order_by("pk").first()
    assert platform_client.get(_url(model, "change", _obj_id(model, obj))).status_code == 200


# --- Filters, search, autocomplete, form choices ---------------------------------


def _in_tenant(model, pks, tenant):
    path = tenant_lookup(model)
    if path is None:
        return True
    return _pks(model._default_manager.filter(pk__in=pks).exclude(**{path: tenant.company.pk})) == set()


@pytest.mark.parametrize("model", [m for m in REGISTERED if tenant_lookup(m) is not None], **LABEL)
def test_relation_filters_offer_only_the_staff_members_company(staff_client, platform_client, tenant_pair, model):
    a, b = tenant_pair
    specs = platform_client.get(_url(model, "changelist")).context["cl"].filter_specs
    if not any(isinstance(s, RelatedFieldListFilter) for s in specs):
        pytest.skip("no relation filter")
    response = staff_client.get(_url(model, "changelist"))
    assert response.status_code == 200
    # A filter with a single choice (the staff member's own company) is not
    # shown at all; any that is shown offers the tenant's objects only.
    for spec in response.context["cl"].filter_specs:
        if isinstance(spec, RelatedFieldListFilter):
            remote = spec.field.remote_field.model
            offered = {pk for pk, _ in spec.lookup_choices}
            assert _in_tenant(remote, offered, a), f"{spec.field_path} offers another tenant's {remote._meta.label}"
    assert str(b.company) not in response.content.decode()


def test_filtering_on_another_tenant_shows_nothing(staff_client, tenant_pair):
    from companies.models import User

    _, b = tenant_pair
    response = staff_client.get(_url(User, "changelist"), {"company__id__exact": b.company.pk})
    assert response.status_code == 200
    assert not response.context["cl"].result_list


@pytest.mark.parametrize(
    ("label", "term_of"),
    [
        ("companies.User", lambda t: t.members[0].username),
        ("companies.Company", lambda t: t.company.name),
        ("chat.Channel", lambda t: t.company.name),  # search_fields include company__name
        ("chat.Message", lambda t: t.messages[0].body),
        ("meetings.Meeting", lambda t: t.meetings[0].title),
    ],
)
def test_search_finds_nothing_of_another_tenant(staff_client, platform_client, tenant_pair, label, term_of):
    from django.apps import apps

    a, b = tenant_pair
    model = apps.get_model(label)
    url = _url(model, "changelist")
    found_by_platform = _pks(platform_client.get(url, {"q": term_of(b)}).context["cl"].queryset)
    assert found_by_platform & _pks(_rows(model, b))  # the term does find B's row
    found = _pks(staff_client.get(url, {"q": term_of(b)}).context["cl"].queryset)
    assert not found & _pks(_rows(model, b))
    assert _pks(staff_client.get(url, {"q": term_of(a)}).context["cl"].queryset) & _pks(_rows(model, a))


def _autocomplete_fields():
    pairs = []
    for model, model_admin in admin.site._registry.items():
        for field in model_admin.autocomplete_fields:
            pairs.append((model, field))
        for inline in model_admin.inlines:
            for field in inline.autocomplete_fields:
                pairs.append((inline.model, field))
    return sorted(set(pairs), key=lambda p: (p[0]._meta.label, p[1]))


@pytest.mark.parametrize(
    ("model", "field"), _autocomplete_fields(), ids=lambda v: getattr(getattr(v, "_meta", None), "label", v)
)
def test_autocomplete_offers_only_the_staff_members_company(staff_client, platform_client, tenant_pair, model, field):
    a, b = tenant_pair
    remote = model._meta.get_field(field).remote_field.model
    query = {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": field, "term": ""}
    everyone = platform_client.get(reverse("admin:autocomplete"), query)
    assert everyone.status_code == 200
    response = staff_client.get(reverse("admin:autocomplete"), query)
    assert response.status_code == 200
    offered = {int(r["id"]) for r in response.json()["results"]}
    assert offered, "nothing offered at all"
    assert _in_tenant(remote, offered, a)
    assert {int(r["id"]) for r in everyone.json()["results"]} - offered  # B's were there to leak


def _choice_fields(form):
    for name, field in form.fields.items():
        queryset = getattr(field, "queryset", None)
        if queryset is not None:
            yield name, queryset


def _assert_form_choices_in_tenant(response, tenant, where):
    forms = [("main form", response.context["adminform"].form)]
    for inline in response.context.get("inline_admin_formsets", []):
        forms += [(f"inline {inline.formset.prefix}", f) for f in inline.formset.forms]
        forms.append((f"inline {inline.formset.prefix} (empty)", inline.formset.empty_form))
        rows = [f.instance.pk for f in inline.formset.forms if f.instance.pk]
        assert _in_tenant(inline.formset.model, rows, tenant), f"{where}: inline {inline.formset.prefix} rows"
    checked = 0
    for label, form in forms:
        for name, queryset in _choice_fields(form):
            if label.startswith("inline") and name == form._meta.model._meta.pk.name:
                continue  # the row's own hidden id: Django looks it up in the inline's (scoped) rows
            remote = queryset.model
            if tenant_lookup(remote) is None:
                continue
            assert _in_tenant(remote, _pks(queryset), tenant), f"{where}, {label}: {name} offers another tenant's rows"
            checked += 1
    return checked


@pytest.mark.parametrize("model", [m for m in REGISTERED if tenant_lookup(m) is not None], **LABEL)
def test_form_choices_and_inlines_are_the_staff_members_company(staff_client, tenant_pair, model):
    a, _ = tenant_pair
    checked = 0
    add = staff_client.get(_url(model, "add"))
    if add.status_code == 200:
        checked += _assert_form_choices_in_tenant(add, a, "add page")
    for obj in _rows(model, a).order_by("pk")[:2]:
        change = staff_client.get(_url(model, "change", _obj_id(model, obj)))
        assert change.status_code == 200
        checked += _assert_form_choices_in_tenant(change, a, "change page")
    if checked == 0:
        pytest.skip("no choice field of a tenant model on its forms")


# --- Writes that point at another tenant ------------------------------------------


def _dt(prefix, value):
    return {f"{prefix}_0": value.strftime("%Y-%m-%d"), f"{prefix}_1": value.strftime("%H:%M:%S")}


def test_adding_rows_to_another_tenant_is_refused(staff_client, tenant_pair):
    from django.utils import timezone

    from chat.models import Channel
    from companies.models import Attendance, User

    _, b = tenant_pair
    now = timezone.now()
    check_in = now.replace(year=2020, microsecond=0)
    attempts = [
        (
            "companies.Attendance",
            {"company": b.company.pk, "user": b.members[1].pk, **_dt("check_in", check_in)},
            "company",
        ),
        (
            "chat.Channel",
            {"company": b.company.pk, "name": "intruder", "topic": "", **_dt("created_at", now)},
            "company",
        ),
        (
            "companies.User",
            {"username": "intruder", "company": b.company.pk, "role": "member", "usable_password": "false"},
            "company",
        ),
    ]
    from django.apps import apps

    for label, data, field in attempts:
        response = staff_client.post(_url(apps.get_model(label), "add"), data)
        assert response.status_code == 200, label
        assert field in response.context["adminform"].form.errors, label
    assert not Attendance.objects.filter(company=b.company, check_in=check_in).exists()
    assert not Channel.objects.filter(name="intruder").exists()
    assert not User.objects.filter(username="intruder").exists()


def test_a_change_that_points_an_fk_at_another_tenant_is_refused(staff_client, tenant_pair):
    from meetings.models import Meeting

    a, b = tenant_pair
    meeting = a.meetings[0]
    url = _url(Meeting, "change", meeting.pk)
    data = admin_form_data(staff_client.get(url))
    response = staff_client.post(url, {**data, "channel": b.channels[0].pk})
    assert response.status_code == 200
    # Refused as a choice that is not offered (not only by the model's
    # tenant check): B's channel is not among the form's choices.
    assert "Select a valid choice" in str(response.context["adminform"].form.errors["channel"])
    meeting.refresh_from_db()
    assert meeting.channel_id != b.channels[0].pk


@pytest.mark.parametrize("model", [m for m in REGISTERED if tenant_lookup(m) is not None], **LABEL)
def test_bulk_delete_of_another_tenants_ids_deletes_nothing(staff_client, tenant_pair, model):
    a, b = tenant_pair
    theirs = _pks(_rows(model, b))
    mine = _pks(_rows(model, a))
    response = staff_client.post(
        _url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [str(pk) for pk in theirs], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert _pks(model._base_manager.filter(pk__in=theirs)) == theirs
    assert _pks(model._base_manager.filter(pk__in=mine)) == mine


def test_bulk_delete_of_mixed_ids_deletes_only_own_rows(staff_client, tenant_pair):
    from chat.models import Message

    a, b = tenant_pair
    mine, theirs = a.replies[0].pk, b.replies[0].pk
    response = staff_client.post(
        _url(Message, "changelist"),
        {"action": "delete_selected", "_selected_action": [mine, theirs], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Message.objects.filter(pk=mine).exists()
    assert Message.objects.filter(pk=theirs).exists()


# --- Delete preview ------------------------------------------------------------------


def test_delete_preview_hides_and_refuses_rows_of_another_tenant(staff_client, platform_client, tenant_pair):
    """On a drifted database (a row of B that hangs off a person of A, as raw
    SQL could leave it on a database whose tenant keys were dropped), deleting
    that person would cascade into B: the preview neither shows nor counts
    B's row, and the delete is refused."""
    from django.db import transaction

    from chat.models import Message

    a, b = tenant_pair
    person = a.members[0]
    stray = b.messages[0]
    # The composite key chat_message_author_same_company refuses this at
    # commit (it is deferred, like every FK); inside this rolled-back
    # savepoint the drifted row exists for the admin requests, and the
    # constraint check at teardown finds it gone.
    with transaction.atomic():
        Message.objects.filter(pk=stray.pk).update(author=person, body="B's secret body")
        _drifted_delete_preview(staff_client, platform_client, person, stray, b)
        transaction.set_rollback(True)


def _drifted_delete_preview(staff_client, platform_client, person, stray, b):
    from django.db.models import Q

    from chat.models import Message
    from companies.models import User

    url = _url(User, "delete", person.pk)
    response = staff_client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert "secret body" not in content
    assert str(b.company) not in content and not any(user.username in content for user in b.users)
    # Counted: what the platform's preview counts, less B's rows (the stray
    # message and the thread replies under it).
    every = dict(platform_client.get(url).context["model_count"])["messages"]
    theirs = Message.objects.filter(channel__company=b.company).filter(Q(pk=stray.pk) | Q(parent=stray.pk)).count()
    assert dict(response.context["model_count"])["messages"] == every - theirs
    assert response.context["protected"]  # the delete is refused
    assert staff_client.post(url, {"post": "yes"}).status_code == 200
    assert Message.objects.filter(pk=stray.pk).exists() and User.objects.filter(pk=person.pk).exists()


# --- No escalation ------------------------------------------------------------------


def test_staff_cannot_make_themselves_superuser_or_grant_permissions(staff_client, tenant_staff):
    from companies.models import User

    url = _url(User, "change", tenant_staff.pk)
    page = staff_client.get(url)
    form = page.context["adminform"].form
    for field in ("is_superuser", "groups", "user_permissions", "company"):
        assert field not in form.fields, field
    data = admin_form_data(page)
    response = staff_client.post(url, {**data, "is_superuser": "on", "company": ""})
    assert response.status_code == 302
    tenant_staff.refresh_from_db()
    assert not tenant_staff.is_superuser and tenant_staff.company_id is not None


def test_staff_cannot_touch_platform_accounts_or_tenants(staff_client, platform_superuser, tenant_pair):
    from companies.models import Company, User

    a, b = tenant_pair
    assert staff_client.get(_url(User, "change", platform_superuser.pk)).status_code == 404
    assert staff_client.get(reverse("admin:auth_user_password_change", args=[platform_superuser.pk])).status_code == 404
    assert staff_client.get(reverse("admin:auth_user_password_change", args=[b.admin.pk])).status_code == 404
    assert staff_client.get(reverse("admin:auth_user_password_change", args=[a.members[0].pk])).status_code == 200
    assert staff_client.get(_url(Company, "add")).status_code == 403
    response = staff_client.post(_url(Company, "add"), {"name": "Mine now", "slug": "mine-now"})
    assert response.status_code == 403 and not Company.objects.filter(slug="mine-now").exists()
    assert staff_client.get(_url(Company, "delete", a.company.pk)).status_code == 403


def test_admin_index_lists_no_global_model_for_staff(staff_client, platform_client):
    staff_models = {
        m["object_name"] for app in staff_client.get(reverse("admin:index")).context["app_list"] for m in app["models"]
    }
    platform_models = {
        m["object_name"]
        for app in platform_client.get(reverse("admin:index")).context["app_list"]
        for m in app["models"]
    }
    globals_ = {m.__name__ for m in REGISTERED if _path(m) is None}
    assert globals_ <= platform_models
    assert not globals_ & staff_models
    assert {"Channel", "Message", "User"} <= staff_models
