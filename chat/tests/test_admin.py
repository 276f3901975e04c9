"""Chat admin: writes go through chat.services (lifecycle fields stay right)
and a cross-tenant pick is a form error, never a 500."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from chat.models import Channel, ChannelMembership, Message
from workspace.tests.admin_forms import add_inline_row, admin_form_data, split_datetime


def test_cross_tenant_message_is_a_form_error(admin_client, tenant, bystander):
    channel = tenant.channels[0]
    response = admin_client.post(
        reverse("admin:chat_message_add"),
        {
            "channel": channel.pk,
            "author": bystander.members[0].pk,
            "body": "hello from elsewhere",
            **split_datetime("created_at", channel.last_message_at + timedelta(minutes=1)),
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "author" in errors and "belongs to another company" in str(errors["author"])
    assert not Message.objects.filter(body="hello from elsewhere").exists()


def test_adding_a_message_moves_last_message_at_through_the_service(admin_client, tenant):
    channel, author = tenant.channels[0], tenant.admin
    at = (channel.last_message_at + timedelta(hours=1)).replace(microsecond=0)
    response = admin_client.post(
        reverse("admin:chat_message_add"),
        {
            "channel": channel.pk,
            "author": author.pk,
            "body": "  posted from the admin ",
            **split_datetime("created_at", at),
        },
    )
    assert response.status_code == 302
    message = Message.objects.get(body="posted from the admin")  # stripped by message_create
    channel.refresh_from_db()
    assert channel.last_message_at == message.created_at == at
    author.refresh_from_db()
    assert author.last_active >= at


def test_editing_a_message_stamps_edited_at_and_keeps_last_message_at(admin_client, tenant):
    message = tenant.messages[0]
    channel = message.channel
    before = Channel.objects.get(pk=channel.pk).last_message_at
    url = reverse("admin:chat_message_change", args=[message.pk])
    data = admin_form_data(admin_client.get(url))
    response = admin_client.post(url, {**data, "body": "edited in the admin"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    message.refresh_from_db()
    assert message.body == "edited in the admin" and message.edited_at is not None
    assert Channel.objects.get(pk=channel.pk).last_message_at == before


def test_deleting_the_newest_message_recomputes_last_message_at(admin_client, tenant):
    channel = tenant.channels[0]
    newest = channel.messages.order_by("-created_at").first()
    response = admin_client.post(reverse("admin:chat_message_delete", args=[newest.pk]), {"post": "yes"})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.last_message_at == channel.messages.order_by("-created_at").first().created_at
    assert channel.last_message_at < newest.created_at


def test_bulk_delete_action_recomputes_every_channel(admin_client, tenant):
    ids = [c.messages.order_by("-created_at").first().pk for c in tenant.channels]
    response = admin_client.post(
        reverse("admin:chat_message_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    for channel in tenant.channels:
        channel.refresh_from_db()
        newest = channel.messages.order_by("-created_at").first()
        assert channel.last_message_at == (newest.created_at if newest else None)


def test_recompute_action_repairs_a_stale_last_message_at(admin_client, tenant):
    channel = tenant.channels[0]
    Channel.objects.filter(pk=channel.pk).update(last_message_at=None)  # as raw SQL would
    response = admin_client.post(
        reverse("admin:chat_channel_changelist"),
        {"action": "recompute_last_message_at", "_selected_action": [channel.pk]},
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.last_message_at == channel.messages.order_by("-created_at").first().created_at


def test_adding_a_channel_makes_its_creator_a_member(admin_client, tenant):
    response = admin_client.post(
        reverse("admin:chat_channel_add"),
        {
            "company": tenant.company.pk,
            "name": "ops",
            "topic": "",
            "created_by": tenant.members[2].pk,
            **split_datetime("created_at", timezone.now()),
        },
    )
    assert response.status_code == 302
    channel = Channel.objects.get(company=tenant.company, name="ops")
    assert list(channel.members.all()) == [tenant.members[2]]
    assert channel.last_message_at is None


def test_membership_inline_refuses_another_tenants_person(admin_client, tenant, bystander):
    channel = tenant.channels[1]  # private: two members
    url = reverse("admin:chat_channel_change", args=[channel.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    data = add_inline_row(admin_form_data(page), "memberships", {"user": bystander.members[0].pk})
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "belongs to another company" in str(response.context["inline_admin_formsets"][0].formset.errors)
    assert not ChannelMembership.objects.filter(channel=channel, user=bystander.members[0]).exists()

    data = add_inline_row(admin_form_data(page), "memberships", {"user": tenant.members[2].pk})
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert ChannelMembership.objects.filter(channel=channel, user=tenant.members[2]).exists()


def test_channel_page_shows_the_newest_messages_inline(admin_client, tenant):
    channel = tenant.channels[0]
    response = admin_client.get(reverse("admin:chat_channel_change", args=[channel.pk]))
    formset = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "messages").formset
    shown = [form.instance.pk for form in formset.forms]
    assert shown == list(channel.messages.order_by("-created_at", "-id").values_list("pk", flat=True)[:20])


# --- the services' rules hold in the admin (a refusal is a form error) --------------


def test_a_company_admin_cannot_edit_someone_elses_message(make_tenant_staff, admin_client_for, tenant):
    message = tenant.messages[0]
    client = admin_client_for(make_tenant_staff(tenant.company))  # a company admin, not the author
    url = reverse("admin:chat_message_change", args=[message.pk])
    response = client.post(url, {**admin_form_data(client.get(url)), "body": "rewritten"})
    assert response.status_code == 200
    assert "Only the author may edit a message." in str(response.context["adminform"].form.errors)
    message.refresh_from_db()
    assert message.body != "rewritten" and message.edited_at is None


def test_a_member_on_the_staff_cannot_delete_others_messages(make_tenant_staff, admin_client_for, tenant):
    message = tenant.messages[0]
    client = admin_client_for(make_tenant_staff(tenant.company, role="member"))
    response = client.post(reverse("admin:chat_message_delete", args=[message.pk]), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "Only the author or a company admin may delete a message." in [str(m) for m in response.context["messages"]]
    assert Message.objects.filter(pk=message.pk).exists()
    # The bulk action too: nothing deleted, a message instead of a 500.
    response = client.post(
        reverse("admin:chat_message_changelist"),
        {"action": "delete_selected", "_selected_action": [message.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert Message.objects.filter(pk=message.pk).exists()


def test_a_member_on_the_staff_cannot_rename_a_channel_they_did_not_create(make_tenant_staff, admin_client_for, tenant):
    channel = tenant.channels[0]
    client = admin_client_for(make_tenant_staff(tenant.company, role="member"))
    url = reverse("admin:chat_channel_change", args=[channel.pk])
    response = client.post(url, {**admin_form_data(client.get(url)), "name": "renamed"})
    assert response.status_code == 200
    assert "creator or a company admin" in str(response.context["adminform"].form.errors)
    assert Channel.objects.get(pk=channel.pk).name == channel.name


def test_membership_read_state_goes_through_the_service(admin_client, tenant, monkeypatch):
    from chat import services

    membership = tenant.memberships[0]
    calls = []
    real = services.membership_update
    monkeypatch.setattr(services, "membership_update", lambda **kw: calls.append(kw) or real(**kw))
    url = reverse("admin:chat_channelmembership_change", args=[membership.pk])
    at = timezone.now().replace(microsecond=0)
    response = admin_client.post(url, {**admin_form_data(admin_client.get(url)), **split_datetime("last_read_at", at)})
    assert response.status_code == 302
    assert [c["last_read_at"] for c in calls] == [at]
    assert ChannelMembership.objects.get(pk=membership.pk).last_read_at == at
