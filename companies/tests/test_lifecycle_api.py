"""The data-lifecycle API (docs/api.md, "Data lifecycle") and admin pages:
impact previews, the retention setting (company admins only) and receipts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chat.factories import MessageFactory
from chat.models import Channel, Message
from chat.selectors import channel_delete_preview
from companies.models import Company, DeletionReceipt
from companies.selectors import company_purge_preview, user_erase_preview

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(client_for, tenant):
    tenant.admin.role = "admin"
    tenant.admin.save(update_fields=["role"])
    return client_for(tenant.admin)


@pytest.fixture
def member_api(client_for, tenant):
    return client_for(tenant.members[2])


def test_channel_delete_preview_equals_what_the_delete_then_removes(admin_api, member_api, tenant, bystander):
    channel = tenant.channels[0]
    url = f"/api/channels/{channel.pk}/delete-preview/"
    response = admin_api.get(url)
    assert response.status_code == 200
    preview = response.json()
    assert preview == channel_delete_preview(channel=channel).as_dict()
    assert preview["counts"]["chat_message"] == Message.objects.filter(channel=channel).count()
    assert member_api.get(url).status_code == 403  # neither creator nor admin
    assert admin_api.get(f"/api/channels/{bystander.channels[0].pk}/delete-preview/").status_code == 404
    assert admin_api.delete(f"/api/channels/{channel.pk}/").status_code == 204
    receipt = DeletionReceipt.objects.get(kind="channel_delete")
    assert receipt.counts == preview["counts"] and receipt.detached == preview["detached"]
    assert receipt.actor_id == tenant.admin.pk


def test_user_erase_preview_is_for_company_admins(admin_api, member_api, tenant, bystander):
    person = tenant.members[0]
    response = admin_api.get(f"/api/users/{person.pk}/erase-preview/")
    assert response.status_code == 200
    assert response.json() == user_erase_preview(user=person).as_dict()
    assert response.json()["counts"]["companies_user"] == 1
    assert member_api.get(f"/api/users/{person.pk}/erase-preview/").status_code == 403
    assert admin_api.get(f"/api/users/{bystander.members[0].pk}/erase-preview/").status_code == 404


def test_company_purge_preview(admin_api, member_api, tenant):
    response = admin_api.get("/api/company/purge-preview/")
    assert response.status_code == 200
    assert response.json() == company_purge_preview(company=tenant.company).as_dict()
    assert response.json()["counts"]["companies_company"] == 1
    assert member_api.get("/api/company/purge-preview/").status_code == 403


def test_retention_setting_and_its_preview(admin_api, member_api, tenant):
    old = Message.objects.filter(channel__company=tenant.company).order_by("created_at").first()
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    response = admin_api.get("/api/company/")
    assert response.status_code == 200
    assert response.json()["message_retention_days"] is None
    assert response.json()["retention_preview"]["days"] is None
    assert response.json()["retention_preview"]["total"] == 0

    response = admin_api.patch("/api/company/", {"message_retention_days": 365}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["message_retention_days"] == 365
    assert Company.objects.get(pk=tenant.company.pk).message_retention_days == 365
    expected = 1 + Message.objects.filter(parent_id=old.pk).count()
    assert body["retention_preview"]["counts"]["chat_message"] == expected
    assert body["retention_preview"]["days"] == 365

    # a proposed value, before changing it
    preview = admin_api.get("/api/company/retention-preview/?days=10").json()
    assert preview["days"] == 10
    assert (
        preview["counts"]["chat_message"]
        == Message.objects.filter(channel__company=tenant.company)
        .filter(created_at__lt=timezone.now() - timedelta(days=10))
        .count()
        + Message.objects.filter(parent__created_at__lt=timezone.now() - timedelta(days=10))
        .filter(created_at__gte=timezone.now() - timedelta(days=10))
        .count()
    )
    for bad in ("0", "", "x", "36501"):
        assert admin_api.get(f"/api/company/retention-preview/?days={bad}").status_code == 400, bad

    response = admin_api.patch("/api/company/", {"message_retention_days": None}, format="json")
    assert response.status_code == 200 and response.json()["message_retention_days"] is None


@pytest.mark.parametrize("value", [0, -5, 36501, "soon", 1.5, True])
def test_retention_setting_refuses_bad_values(admin_api, tenant, value):
    response = admin_api.patch("/api/company/", {"message_retention_days": value}, format="json")
    assert response.status_code == 400
    assert "message_retention_days" in response.json()
    assert Company.objects.get(pk=tenant.company.pk).message_retention_days is None


def test_retention_setting_is_for_company_admins_only(member_api, tenant):
    assert member_api.get("/api/company/").status_code == 403
    response = member_api.patch("/api/company/", {"message_retention_days": 1}, format="json")
    assert response.status_code == 403
    assert member_api.get("/api/company/retention-preview/").status_code == 403
    assert Company.objects.get(pk=tenant.company.pk).message_retention_days is None


def test_deletion_receipts_of_the_callers_company_only(admin_api, member_api, tenant, bystander):
    from chat.services import channel_delete

    channel_delete(channel=bystander.channels[0])
    channel_delete(channel=Channel.objects.get(pk=tenant.channels[1].pk), actor=tenant.admin)
    response = admin_api.get("/api/company/deletion-receipts/")
    assert response.status_code == 200
    [receipt] = response.json()["results"]
    assert receipt["kind"] == "channel_delete" and receipt["actor_username"] == tenant.admin.username
    assert receipt["counts"]["chat_channel"] == 1 and len(receipt["checksum"]) == 64
    assert member_api.get("/api/company/deletion-receipts/").status_code == 403


# --- The admin -----------------------------------------------------------------------


def test_admin_delete_pages_show_the_preview_counts(admin_client, tenant):
    channel = tenant.channels[0]
    response = admin_client.get(reverse("admin:chat_channel_delete", args=[channel.pk]))
    assert response.status_code == 200
    counts = channel_delete_preview(channel=channel).counts()
    assert dict(response.context["model_count"])["messages"] == counts["chat_message"]
    assert "Detached, kept with meetings_meeting.channel_id set to NULL: 1" in response.content.decode()

    person = tenant.members[0]
    response = admin_client.get(reverse("admin:companies_user_delete", args=[person.pk]))
    counts = user_erase_preview(user=person).counts()
    assert dict(response.context["model_count"])["messages"] == counts["chat_message"]
    response = admin_client.post(reverse("admin:companies_user_delete", args=[person.pk]), {"post": "yes"})
    assert response.status_code == 302
    receipt = DeletionReceipt.objects.get(kind="user_erase")
    assert receipt.counts == counts and receipt.actor_username == "root"


def test_admin_company_page_edits_retention_and_shows_the_next_run(admin_client, tenant):
    company = tenant.company
    MessageFactory(channel=tenant.channels[0], author=tenant.admin, created_at=timezone.now() - timedelta(days=90))
    url = reverse("admin:companies_company_change", args=[company.pk])
    response = admin_client.post(
        url, {"name": company.name, "slug": company.slug, "message_retention_days": "0", "deletion_delay_days": 30}
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors  # refused
    response = admin_client.post(
        url, {"name": company.name, "slug": company.slug, "message_retention_days": "60", "deletion_delay_days": 30}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Company.objects.get(pk=company.pk).message_retention_days == 60
    page = admin_client.get(url).content.decode()
    assert "Next retention run would delete" in page and "chat_message: 1" in page
