"""Company, person and attendance admin: the delete page summarises the
cascade, deleting is the tenant purge, and bad input is a form error."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from companies import services
from companies.models import Attendance, Company, User
from workspace.db.lineage import cascade_counts, tenant_models, tenant_rows


@pytest.fixture
def purge_calls(monkeypatch):
    calls = []
    real = services.company_purge

    def spy(*, company, **kwargs):
        calls.append(company.pk)
        return real(company=company, **kwargs)

    monkeypatch.setattr(services, "company_purge", spy)
    return calls


def _tenant_pks(company_id):
    return {m: set(tenant_rows(m, company_id).values_list("pk", flat=True)) for m in tenant_models()}


def _left(pks):
    return {m._meta.label: n for m, ids in pks.items() if (n := m._base_manager.filter(pk__in=ids).count())}


def test_delete_page_summarises_everything_the_cascade_removes(admin_client, tenant, bystander):
    url = reverse("admin:companies_company_delete", args=[tenant.company.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    summary = dict(response.context["model_count"])
    counts = {str(m._meta.verbose_name_plural): n for m, n in cascade_counts(tenant.company.pk).items() if n}
    assert summary == counts
    # The sample tenant's real numbers, not the bystander's too.
    assert summary["messages"] == len(tenant.messages) + len(tenant.replies)
    assert summary["users"] == len(tenant.users)
    assert summary["message reactions"] == len(tenant.reactions)
    content = response.content.decode()
    assert f"Messages: {summary['messages']}" in content
    assert str(bystander.company) not in content


def test_confirming_the_delete_purges_the_tenant_through_the_service(admin_client, tenant, bystander, purge_calls):
    pks = _tenant_pks(tenant.company.pk)
    others = _tenant_pks(bystander.company.pk)
    url = reverse("admin:companies_company_delete", args=[tenant.company.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert purge_calls == [tenant.company.pk]
    assert _left(pks) == {}
    assert {
        m: set(m._base_manager.filter(pk__in=ids).values_list("pk", flat=True)) for m, ids in others.items()
    } == others


def test_purge_action_asks_for_confirmation_then_purges(admin_client, tenant, bystander, purge_calls):
    url = reverse("admin:companies_company_changelist")
    data = {"action": "delete_selected", "_selected_action": [tenant.company.pk]}
    confirmation = admin_client.post(url, data)
    assert confirmation.status_code == 200  # the confirmation page, nothing deleted yet
    assert purge_calls == []
    assert Company.objects.filter(pk=tenant.company.pk).exists()
    assert dict(confirmation.context["model_count"])["messages"] == len(tenant.messages) + len(tenant.replies)
    assert "Purge selected companies" in admin_client.get(url).content.decode()

    response = admin_client.post(url, {**data, "post": "yes"})
    assert response.status_code == 302
    assert purge_calls == [tenant.company.pk]
    assert not Company.objects.filter(pk=tenant.company.pk).exists()
    assert Company.objects.filter(pk=bystander.company.pk).exists()


def test_adding_a_company_goes_through_the_service(admin_client, monkeypatch):
    calls = []
    real = services.company_create
    monkeypatch.setattr(services, "company_create", lambda **kw: calls.append(kw) or real(**kw))
    response = admin_client.post(reverse("admin:companies_company_add"), {"name": "Hooli", "slug": "hooli"})
    assert response.status_code == 302
    assert calls == [{"name": "Hooli", "slug": "hooli"}]
    assert Company.objects.get(slug="hooli").name == "Hooli"


def test_adding_a_person_without_company_is_a_form_error(admin_client):
    response = admin_client.post(
        reverse("admin:companies_user_add"),
        {"username": "nobody", "role": "member", "usable_password": "false"},
    )
    assert response.status_code == 200
    assert "company" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="nobody").exists()


def test_adding_a_person_goes_through_the_service(admin_client, tenant, monkeypatch):
    calls = []
    real = services.user_create
    monkeypatch.setattr(services, "user_create", lambda **kw: calls.append(kw["username"]) or real(**kw))
    response = admin_client.post(
        reverse("admin:companies_user_add"),
        {
            "username": "newbie",
            "company": tenant.company.pk,
            "role": "member",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert calls == ["newbie"]
    user = User.objects.get(username="newbie")
    assert user.company == tenant.company and user.check_password("a-long-enough-passphrase")


def test_company_of_a_person_is_read_only_on_change(admin_client, tenant):
    user = tenant.members[0]
    url = reverse("admin:companies_user_change", args=[user.pk])
    response = admin_client.get(url)
    assert "company" not in response.context["adminform"].form.fields
    assert response.status_code == 200


def test_deleting_a_person_is_the_erasure_service(admin_client, tenant, monkeypatch):
    calls = []
    real = services.user_erase
    monkeypatch.setattr(services, "user_erase", lambda *, user, **kw: calls.append(user.pk) or real(user=user, **kw))
    author = tenant.members[0]
    response = admin_client.post(reverse("admin:companies_user_delete", args=[author.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert calls == [author.pk]
    assert not User.objects.filter(pk=author.pk).exists()


def test_cross_tenant_attendance_is_a_form_error(admin_client, tenant, other_company):
    response = admin_client.post(
        reverse("admin:companies_attendance_add"),
        {
            "company": other_company.pk,
            "user": tenant.members[2].pk,
            "check_in_0": "2020-01-01",
            "check_in_1": "09:00:00",
        },
    )
    assert response.status_code == 200
    assert "belongs to another company" in str(response.context["adminform"].form.errors)
    assert not Attendance.objects.filter(company=other_company).exists()


def test_overlapping_attendance_is_a_form_error(admin_client, tenant):
    user = tenant.members[2]
    closed = Attendance.objects.filter(user=user, check_out__isnull=False).first()
    start = closed.check_in + timedelta(hours=1)
    response = admin_client.post(
        reverse("admin:companies_attendance_add"),
        {
            "company": tenant.company.pk,
            "user": user.pk,
            "check_in_0": start.strftime("%Y-%m-%d"),
            "check_in_1": start.strftime("%H:%M:%S"),
            "check_out_0": (start + timedelta(hours=1)).strftime("%Y-%m-%d"),
            "check_out_1": (start + timedelta(hours=1)).strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 200
    assert "overlaps" in str(response.context["adminform"].form.errors)


def test_check_out_action_closes_open_attendances_through_the_service(admin_client, tenant):
    open_attendance = Attendance.objects.get(user=tenant.members[0], check_out__isnull=True)
    before = timezone.now()
    response = admin_client.post(
        reverse("admin:companies_attendance_changelist"),
        {"action": "check_out_now", "_selected_action": [open_attendance.pk]},
    )
    assert response.status_code == 302
    open_attendance.refresh_from_db()
    assert open_attendance.check_out >= before
    tenant.members[0].refresh_from_db()
    assert tenant.members[0].last_active >= before  # the service's lifecycle effect


# --- changes through company_update / user_update, with their rules ----------------


def test_changing_a_company_goes_through_the_service(admin_client, tenant, monkeypatch):
    calls = []
    real = services.company_update
    monkeypatch.setattr(services, "company_update", lambda **kw: calls.append(kw) or real(**kw))
    url = reverse("admin:companies_company_change", args=[tenant.company.pk])
    response = admin_client.post(url, {"name": "Renamed Inc", "slug": tenant.company.slug, "deletion_delay_days": 30})
    assert response.status_code == 302
    assert [(c["company"].pk, c.get("name")) for c in calls] == [(tenant.company.pk, "Renamed Inc")]
    assert Company.objects.get(pk=tenant.company.pk).name == "Renamed Inc"


def test_a_member_on_the_staff_cannot_rename_their_company(make_tenant_staff, admin_client_for, tenant):
    client = admin_client_for(make_tenant_staff(tenant.company, role="member"))
    url = reverse("admin:companies_company_change", args=[tenant.company.pk])
    response = client.post(url, {"name": "Hijacked", "slug": tenant.company.slug, "deletion_delay_days": 30})
    assert response.status_code == 200
    assert "Only an admin of the company may change it." in str(response.context["adminform"].form.errors)
    assert Company.objects.get(pk=tenant.company.pk).name != "Hijacked"


def test_a_member_on_the_staff_cannot_promote_themselves(make_tenant_staff, admin_client_for, tenant):
    from workspace.tests.admin_forms import admin_form_data

    staff = make_tenant_staff(tenant.company, role="member")
    client = admin_client_for(staff)
    url = reverse("admin:companies_user_change", args=[staff.pk])
    response = client.post(url, {**admin_form_data(client.get(url)), "role": "admin"})
    assert response.status_code == 200
    assert "Only an admin of the company may change this." in str(response.context["adminform"].form.errors)
    assert User.objects.get(pk=staff.pk).role == "member"


def test_the_password_page_goes_through_user_update_and_revokes_the_tokens(admin_client, tenant, monkeypatch):
    from knox.models import AuthToken

    user = tenant.members[0]
    AuthToken.objects.create(user=user)
    calls = []
    real = services.user_update
    monkeypatch.setattr(services, "user_update", lambda **kw: calls.append(kw["user"].pk) or real(**kw))
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    response = admin_client.post(
        url, {"password1": "another-long-passphrase", "password2": "another-long-passphrase", "usable_password": "true"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert calls == [user.pk]
    user.refresh_from_db()
    assert user.check_password("another-long-passphrase")
    assert not AuthToken.objects.filter(user=user).exists()


def test_attendance_admin_writes_through_the_services_with_their_rule(
    admin_client, make_tenant_staff, admin_client_for, tenant
):
    attendance = next(a for a in tenant.attendances if a.check_out is not None)
    url = reverse("admin:companies_attendance_change", args=[attendance.pk])
    from workspace.tests.admin_forms import admin_form_data, split_datetime

    later = attendance.check_out + timedelta(minutes=5)
    # A member on the staff may not correct attendances (theirs or others').
    member = admin_client_for(make_tenant_staff(tenant.company, role="member"))
    response = member.post(url, {**admin_form_data(member.get(url)), **split_datetime("check_out", later)})
    assert response.status_code == 200
    assert "Only an admin of the company may record or correct" in str(response.context["adminform"].form.errors)
    response = admin_client.post(url, {**admin_form_data(admin_client.get(url)), **split_datetime("check_out", later)})
    assert response.status_code == 302
    attendance.refresh_from_db()
    assert attendance.check_out.replace(microsecond=0) == later.replace(microsecond=0)
