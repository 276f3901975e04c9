"""Meetings admin: writes through meetings.services, cross-tenant picks are
form errors, RSVP actions use the service."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, MeetingParticipant
from workspace.tests.admin_forms import add_inline_row, admin_form_data, split_datetime


def _meeting_form(company, organizer, start, end, **extra):
    return {
        "company": company.pk,
        "organizer": organizer.pk,
        "title": "Planning",
        "description": "",
        **split_datetime("starts_at", start),
        **split_datetime("ends_at", end),
        **split_datetime("created_at", timezone.now()),
        **extra,
    }


def test_adding_a_meeting_goes_through_the_service(admin_client, tenant):
    start = timezone.now() + timedelta(days=3)
    response = admin_client.post(
        reverse("admin:meetings_meeting_add"),
        _meeting_form(tenant.company, tenant.members[0], start, start + timedelta(hours=1)),
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get(title="Planning")
    # meeting_create makes the organizer an accepted participant.
    assert list(meeting.participations.values_list("user", "response")) == [
        (tenant.members[0].pk, MeetingParticipant.Response.ACCEPTED)
    ]


def test_cross_tenant_organizer_is_a_form_error(admin_client, tenant, bystander):
    start = timezone.now() + timedelta(days=3)
    response = admin_client.post(
        reverse("admin:meetings_meeting_add"),
        _meeting_form(tenant.company, bystander.members[0], start, start + timedelta(hours=1)),
    )
    assert response.status_code == 200
    assert "belongs to another company" in str(response.context["adminform"].form.errors)
    assert not Meeting.objects.filter(title="Planning").exists()


def test_ending_before_start_is_a_form_error(admin_client, tenant):
    start = timezone.now() + timedelta(days=3)
    response = admin_client.post(
        reverse("admin:meetings_meeting_add"),
        _meeting_form(tenant.company, tenant.admin, start, start - timedelta(hours=1)),
    )
    assert response.status_code == 200
    assert "must end after it starts" in str(response.context["adminform"].form.errors)


def test_participant_inline_refuses_another_tenants_person(admin_client, tenant, bystander):
    meeting = tenant.meetings[1]
    url = reverse("admin:meetings_meeting_change", args=[meeting.pk])
    page = admin_client.get(url)
    data = add_inline_row(admin_form_data(page), "participations", {"user": bystander.admin.pk, "response": "pending"})
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "belongs to another company" in str(response.context["inline_admin_formsets"][0].formset.errors)
    assert not meeting.participations.filter(user=bystander.admin).exists()

    data = add_inline_row(admin_form_data(page), "participations", {"user": tenant.admin.pk, "response": "tentative"})
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert meeting.participations.get(user=tenant.admin).response == "tentative"


def test_rsvp_action_uses_the_service(admin_client, tenant):
    pending = MeetingParticipant.objects.filter(meeting=tenant.meetings[0], response="pending")
    ids = list(pending.values_list("pk", flat=True))
    assert ids
    before = timezone.now()
    response = admin_client.post(
        reverse("admin:meetings_meetingparticipant_changelist"),
        {"action": "mark_declined", "_selected_action": ids},
    )
    assert response.status_code == 302
    rows = MeetingParticipant.objects.filter(pk__in=ids).select_related("user")
    assert {p.response for p in rows} == {"declined"}
    # An RSVP is the person's activity (lifecycle receivers).
    assert all(p.user.last_active and p.user.last_active >= before for p in rows)


def test_filters_by_response_and_company(admin_client, tenant, bystander):
    url = reverse("admin:meetings_meetingparticipant_changelist")
    response = admin_client.get(url, {"response": "accepted", "meeting__company__id__exact": tenant.company.pk})
    assert response.status_code == 200
    shown = {p.pk for p in response.context["cl"].result_list}
    expected = set(
        MeetingParticipant.objects.filter(response="accepted", meeting__company=tenant.company).values_list(
            "pk", flat=True
        )
    )
    assert shown == expected and shown


# --- the services' rules hold in the admin (a refusal is a form error) --------------


def test_a_company_admin_who_is_not_the_organizer_cannot_change_a_meeting(make_tenant_staff, admin_client_for, tenant):
    meeting = tenant.meetings[0]
    staff = make_tenant_staff(tenant.company)  # a company admin, not the organizer
    client = admin_client_for(staff)
    url = reverse("admin:meetings_meeting_change", args=[meeting.pk])
    response = client.post(url, {**admin_form_data(client.get(url)), "title": "Hijacked"})
    assert response.status_code == 200
    assert "Only the organizer may change" in str(response.context["adminform"].form.errors)
    meeting.refresh_from_db()
    assert meeting.title != "Hijacked"
    # Nothing of the refused save is left: no log entry.
    from django.contrib.admin.models import LogEntry

    assert not LogEntry.objects.filter(user=staff).exists()


def test_removing_the_organizers_participation_is_a_form_error(admin_client, tenant):
    meeting = tenant.meetings[0]
    url = reverse("admin:meetings_meeting_change", args=[meeting.pk])
    page = admin_client.get(url)
    data = admin_form_data(page)
    formset = page.context["inline_admin_formsets"][0].formset
    index = next(i for i, form in enumerate(formset.forms) if form.instance.user_id == meeting.organizer_id)
    data[f"{formset.prefix}-{index}-DELETE"] = "on"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "The organizer always takes part" in str(response.context["adminform"].form.errors)
    assert meeting.participations.filter(user=meeting.organizer).exists()


def test_deleting_a_participation_goes_through_the_service(admin_client, tenant, monkeypatch):
    from meetings import services

    participation = (
        MeetingParticipant.objects.filter(meeting=tenant.meetings[0]).exclude(user=tenant.meetings[0].organizer).first()
    )
    calls = []
    real = services.participant_remove
    monkeypatch.setattr(services, "participant_remove", lambda **kw: calls.append(kw) or real(**kw))
    url = reverse("admin:meetings_meetingparticipant_delete", args=[participation.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert [c["user"] for c in calls] == [participation.user]
    assert not MeetingParticipant.objects.filter(pk=participation.pk).exists()


def test_a_refused_participation_delete_is_a_message_not_a_500(make_tenant_staff, admin_client_for, tenant):
    meeting = tenant.meetings[0]
    participation = meeting.participations.exclude(user=meeting.organizer).first()
    client = admin_client_for(make_tenant_staff(tenant.company))
    url = reverse("admin:meetings_meetingparticipant_delete", args=[participation.pk])
    response = client.post(url, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "Only the organizer may add or remove participants." in [str(m) for m in response.context["messages"]]
    assert MeetingParticipant.objects.filter(pk=participation.pk).exists()


def test_editing_a_participation_validates_the_whole_row(admin_client, tenant):
    participation = next(p for p in tenant.participations if p.joined_at is not None)
    url = reverse("admin:meetings_meetingparticipant_change", args=[participation.pk])
    data = admin_form_data(admin_client.get(url))
    response = admin_client.post(
        url, {**data, **split_datetime("left_at", participation.joined_at - timedelta(minutes=5))}
    )
    assert response.status_code == 200
    assert "Leaving must not be before joining" in str(response.context["adminform"].form.errors)
