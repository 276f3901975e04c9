"""Every model's admin pages render with data present, without N+1 queries."""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)
# The global job models (tenant purges, queued jobs) need a row too.
pytestmark = pytest.mark.usefixtures("job_rows")


def _url(model, view, *args):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def test_every_project_model_is_registered():
    from django.apps import apps

    labels = {m._meta.label for m in admin.site._registry}
    for app in ("companies", "chat", "meetings"):
        for model in apps.get_app_config(app).get_models():
            assert model._meta.label in labels


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_change_delete_and_add_pages_render(client, superuser, tenant, model):
    client.force_login(superuser)
    read_only = model._meta.label == "companies.DeletionReceipt"  # append-only
    if read_only:
        from chat.services import channel_delete

        channel_delete(channel=tenant.channels[0], actor=superuser)
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"no {model._meta.label} row to inspect"
    pages = [
        (_url(model, "changelist"), 200),
        (_url(model, "changelist") + "?q=a", 200),
        (_url(model, "change", quote(obj.pk)), 200),
        (_url(model, "delete", quote(obj.pk)), 403 if read_only else 200),
        (_url(model, "add"), 403 if read_only else 200),
    ]
    model_admin = admin.site._registry[model]
    for url, _status in pages:
        response = client.get(url)
        # Read-only admins (job records: tenant purges, queued jobs) refuse
        # their add and delete pages, even to a superuser.
        request = response.wsgi_request
        denied = (url.endswith("/add/") and not model_admin.has_add_permission(request)) or (
            url.endswith("/delete/") and not model_admin.has_delete_permission(request, obj)
        )
        assert response.status_code == (403 if denied else 200), url


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_query_count_does_not_grow_with_rows(client, superuser, model):
    from workspace.testing import build_populated_tenant

    client.force_login(superuser)
    build_populated_tenant()
    url = _url(model, "changelist")
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as one_tenant:
        assert client.get(url).status_code == 200
    build_populated_tenant()
    with CaptureQueriesContext(connection) as two_tenants:
        assert client.get(url).status_code == 200
    assert len(two_tenants) == len(one_tenant), [q["sql"] for q in two_tenants.captured_queries]
