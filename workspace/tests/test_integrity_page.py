"""The admin's integrity page, ``/admin/integrity/`` (workspace/integrity/admin_views.py),
and the delete pages that link to it."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from companies.factories import UserFactory
from companies.models import User
from workspace.db.lineage import tenant_edges, tenant_models

URL = "/admin/integrity/"


@pytest.fixture(autouse=True)
def _clear_integrity_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def tenants(db):
    from workspace.testing import build_populated_tenant

    return build_populated_tenant(slug="alpha"), build_populated_tenant(slug="beta")


def capture():
    """CaptureQueriesContext on an emptied log: it slices ``queries_log``, a
    deque capped at 9000 entries that the drill alone can fill. Read
    ``captured_queries`` before the next capture() (it is a lazy slice)."""
    connection.queries_log.clear()
    return CaptureQueriesContext(connection)


def staff_of(company):
    return UserFactory(company=company, role=User.Role.ADMIN, is_staff=True)


def counts_table(html):
    """{tenant name: [cells]} of the rows-per-tenant table."""
    body = html.split('id="counts"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for name, cells in re.findall(
        r"<tr><th>(?:<a [^>]*>)?([^<]+)(?:</a>)?</th>((?:<td class=\"num\">\d+</td>)+)</tr>", body
    ):
        rows[name] = [int(n) for n in re.findall(r">(\d+)<", cells)]
    return rows


# --- Who may see it ----------------------------------------------------------


def test_anonymous_and_plain_members_are_sent_to_the_admin_login(client, tenants):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    member = UserFactory(company=tenants[0].company, is_staff=False)
    client.force_login(member)
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.post(URL, {"action": "fix"}).status_code == 302


def test_superuser_sees_every_tenant(client, superuser, tenants):
    client.force_login(superuser)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    rows = counts_table(html)
    assert {t.company.name for t in tenants} <= set(rows)
    assert "All tenants" in html


def test_company_staff_see_their_own_tenant_only(client, tenants):
    mine, theirs = tenants
    client.force_login(staff_of(mine.company))
    response = client.get(URL, {"company": theirs.company.pk})  # ignored for staff
    assert response.status_code == 200
    html = response.content.decode()
    assert list(counts_table(html)) == [mine.company.name]
    assert theirs.company.name not in html
    assert 'value="fix"' not in html  # no repair button
    assert "Your company" in html


def test_only_a_superuser_may_repair_or_drill(client, tenants):
    client.force_login(staff_of(tenants[0].company))
    assert client.post(URL, {"action": "fix"}).status_code == 403
    assert client.post(URL, {"action": "drill"}).status_code == 403
    assert not LogEntry.objects.filter(object_repr="integrity_audit --fix").exists()


# --- What it shows ------------------------------------------------------------


def test_the_lineage_is_drawn_with_a_box_per_table_and_a_labelled_edge_per_fk(client, superuser, tenants):
    client.force_login(superuser)
    html = client.get(URL).content.decode()
    svg = html[html.index('<svg class="lineage"') :].split("</svg>", 1)[0]
    for model in tenant_models():
        assert f'data-table="{model._meta.db_table}"' in svg
    # Each table in the admin is a link to its changelist.
    assert '<a class="node" href="/admin/chat/message/" data-table="chat_message">' in svg
    assert 'class="node unlinked" data-table="django_admin_log"' in svg
    # Every FK is an edge labelled with its ON DELETE action.
    edges = tenant_edges()
    assert svg.count('<path class="edge ') == len(edges)
    for edge in edges:
        assert f'data-fk="{edge.table}.{edge.column}"' in svg
    assert svg.count(">CASCADE<") == sum(e.db_action == "CASCADE" and not e.is_self for e in edges)
    assert svg.count(">SET NULL<") == sum(e.db_action == "SET NULL" for e in edges)
    assert "ON DELETE SET NULL" in svg  # tooltips name the action and the column
    # Row counts in the boxes, and the ASCII tree of the report.
    messages = sum(len(t.messages) + len(t.replies) for t in tenants)
    assert f"chat.Message \u00b7 {messages} rows" in svg
    assert "[CASCADE] company_id --&gt; companies_user (companies.User)" in html
    # No script, no inline style: a Content Security Policy can stay strict.
    assert "<script" not in html.split('id="content-main"', 1)[1]
    assert "style=" not in html.split('id="content-main"', 1)[1]


def test_counts_are_exact_per_tenant(client, superuser, tenants):
    client.force_login(superuser)
    rows = counts_table(client.get(URL).content.decode())
    from workspace.integrity.admin_views import count_rows, per_model
    from workspace.db.lineage import tenant_rows

    models = list(per_model(count_rows()))
    for tenant in tenants:
        expected = [tenant_rows(m, tenant.company.pk).count() for m in models]
        assert rows[tenant.company.name] == expected


def test_findings_are_listed_and_the_repair_button_fixes_them(client, superuser, tenants):
    from chat.models import Channel

    channel = tenants[0].channels[0]
    Channel.objects.filter(pk=channel.pk).update(last_message_at=None)  # stale, as raw SQL would leave it
    client.force_login(superuser)
    html = client.get(URL).content.decode()
    assert "stale_last_message_at" in html
    assert "No repair has been run from here." in html
    assert 'name="csrfmiddlewaretoken"' in html and 'value="fix"' in html

    response = client.post(URL, {"action": "fix"})
    assert response.status_code == 302 and response["Location"] == URL
    channel.refresh_from_db()
    assert channel.last_message_at is not None
    entry = LogEntry.objects.get(object_repr="integrity_audit --fix")
    assert entry.user == superuser and "last_message_at recomputed (1)" in entry.change_message

    html = client.get(URL).content.decode()
    assert "No finding" in html and "stale_last_message_at" not in html.split('id="counts"')[0].split("Last repair")[0]
    assert "Last repair:" in html and "by root" in html


def test_staff_see_their_tenant_s_findings_only(client, tenants):
    from chat.models import Channel

    Channel.objects.filter(pk=tenants[1].channels[0].pk).update(last_message_at=None)
    client.force_login(staff_of(tenants[0].company))
    assert "stale_last_message_at" not in client.get(URL).content.decode()
    client.force_login(staff_of(tenants[1].company))
    assert "stale_last_message_at" in client.get(URL).content.decode()


def test_the_post_needs_the_csrf_token(superuser, tenants):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    assert client.post(URL, {"action": "fix"}).status_code == 403


def test_the_drill_result_is_shown_and_can_be_run_again(client, superuser, tenants):
    client.force_login(superuser)
    html = client.get(URL).content.decode()
    assert "Every path passes." in html
    assert html.count('<td class="ok">PASS') == 6
    assert "company_purge(company=...)" in html
    first = cache.get("workspace:integrity:drill")["computed_at"]
    response = client.post(URL, {"action": "drill"}, follow=True)
    assert "Cascade drill: all 6 paths pass." in response.content.decode()
    assert cache.get("workspace:integrity:drill")["computed_at"] > first


def test_scans_are_cached_for_a_short_time(client, superuser, tenants):
    client.force_login(superuser)
    client.get(URL)
    with capture() as ctx:
        client.get(URL)
    cached = [q["sql"] for q in ctx.captured_queries]  # now: the next capture() empties the log
    client.post(URL, {"action": "audit"})  # "Run the audit again" forgets the cached scans
    with capture() as ctx:
        client.get(URL)
    fresh = [q["sql"] for q in ctx.captured_queries]
    assert not any("GROUP BY" in sql for sql in cached)
    assert sum("GROUP BY" in sql for sql in fresh) == len(tenant_models())
    assert len(cached) < len(fresh)


def test_query_count_does_not_grow_with_the_number_of_tenants(client, superuser, tenants):
    """Counts grouped by company, one query per table: 2 tenants or 5 cost the same."""
    from workspace.testing import build_populated_tenant

    client.force_login(superuser)
    client.get(URL)  # the drill's result is cached from now on

    def page_queries():
        cache.delete_many([k for k in ("workspace:integrity:counts:all", "workspace:integrity:audit:all")])
        with capture() as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx)

    two = page_queries()
    for _ in range(3):
        build_populated_tenant()
    five = page_queries()
    assert two == five
    html = client.get(URL).content.decode()
    assert len(counts_table(html)) == 5 + 1  # and the total


def test_a_superuser_can_narrow_the_page_to_one_tenant(client, superuser, tenants):
    client.force_login(superuser)
    response = client.get(URL, {"company": tenants[1].company.pk})
    assert list(counts_table(response.content.decode())) == [tenants[1].company.name]
    assert client.get(URL, {"company": 999999}).status_code == 404


# --- Linked from the admin ------------------------------------------------------


def test_the_admin_index_links_to_it(client, superuser):
    client.force_login(superuser)
    html = client.get("/admin/").content.decode()
    assert 'id="integrity-module"' in html and f'href="{URL}"' in html
    assert 'id="app-list"' in html or "app-list" in html  # Django's own index is still there


def test_a_company_delete_page_shows_the_exact_counts_and_links_to_it(client, superuser, tenants):
    from workspace.db.lineage import cascade_counts

    company = tenants[0].company
    client.force_login(superuser)
    html = client.get(f"/admin/companies/company/{company.pk}/delete/").content.decode()
    total = sum(cascade_counts(company.pk).values())
    assert f"This delete removes exactly {total} rows" in html
    assert f'href="{URL}?company={company.pk}" id="integrity-link"' in html


def test_a_user_delete_page_shows_the_exact_counts_and_links_to_it(client, superuser, tenants):
    from django.contrib.admin.utils import NestedObjects

    author = User.objects.get(pk=tenants[0].replies[-1].author_id)
    collector = NestedObjects(using="default")
    collector.collect([author])
    total = sum(len(objs) for objs in collector.model_objs.values())
    client.force_login(superuser)
    html = client.get(f"/admin/companies/user/{author.pk}/delete/").content.decode()
    assert f"This delete removes exactly {total} rows" in html
    assert f'href="{URL}?company={author.company_id}" id="integrity-link"' in html
