"""Write paths of the meetings app: meetings, participants, RSVP/join/leave."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chat.models import Channel
from companies.models import User
from companies.tenancy import lock_tenant
from meetings.models import Meeting, MeetingParticipant
from workspace.db.writes import create_unique
from workspace.tenancy import ensure_same_company


@transaction.atomic
def meeting_create(
    *,
    organizer: User,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    channel: Channel | None = None,
    participants: list[User] | tuple[User, ...] = (),
) -> Meeting:
    if organizer.company_id is None:
        raise ValidationError({"organizer": "Only members of a company can organize meetings."})
    lock_tenant(organizer.company_id)
    meeting = Meeting(
        company_id=organizer.company_id,
        organizer=organizer,
        channel=channel,
        title=title.strip(),
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    meeting.full_clean()
    meeting.save()
    errors = {}
    for user in participants:
        if user.company_id != meeting.company_id:
            errors["participants"] = f"User {user.pk} belongs to another company."
    if errors:
        raise ValidationError(errors)
    people = {user.pk: user for user in participants}
    people.setdefault(organizer.pk, organizer)
    MeetingParticipant.objects.bulk_create(
        MeetingParticipant(
            meeting=meeting,
            user=user,
            response=(
                MeetingParticipant.Response.ACCEPTED
                if user.pk == organizer.pk
                else MeetingParticipant.Response.PENDING
            ),
        )
        for user in people.values()
    )
    return meeting


@transaction.atomic
def meeting_update(*, meeting: Meeting, **fields) -> Meeting:
    lock_tenant(meeting.company_id)
    allowed = {"title", "description", "starts_at", "ends_at", "channel"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.full_clean()
    meeting.save(update_fields=[*fields])
    return meeting


@transaction.atomic
def meeting_delete(*, meeting: Meeting) -> None:
    lock_tenant(meeting.company_id)
    meeting.delete()


@transaction.atomic
def participant_add(*, meeting: Meeting, user: User) -> MeetingParticipant:
    lock_tenant(meeting.company_id)
    ensure_same_company(meeting.company_id, user=user)
    return create_unique(
        MeetingParticipant,
        field="user",
        error="This user is already a participant.",
        meeting=meeting,
        user=user,
    )


def _participation(*, meeting: Meeting, user: User) -> MeetingParticipant:
    lock_tenant(meeting.company_id)
    participation = (
        MeetingParticipant.objects.select_for_update().filter(meeting=meeting, user=user).first()
    )
    if participation is None:
        raise ValidationError({"user": "You are not a participant of this meeting."})
    return participation


@transaction.atomic
def participant_rsvp(*, meeting: Meeting, user: User, response: str) -> MeetingParticipant:
    if response not in MeetingParticipant.Response.values:
        raise ValidationError({"response": f"Must be one of {', '.join(MeetingParticipant.Response.values)}."})
    participation = _participation(meeting=meeting, user=user)
    participation.response = response
    participation.save(update_fields=["response"])
    return participation


@transaction.atomic
def participant_join(*, meeting: Meeting, user: User, at: datetime | None = None) -> MeetingParticipant:
    participation = _participation(meeting=meeting, user=user)
    participation.joined_at = at or timezone.now()
    participation.left_at = None
    participation.save(update_fields=["joined_at", "left_at"])
    return participation


@transaction.atomic
def participant_leave(*, meeting: Meeting, user: User, at: datetime | None = None) -> MeetingParticipant:
    participation = _participation(meeting=meeting, user=user)
    if participation.joined_at is None:
        raise ValidationError({"user": "You have not joined this meeting."})
    at = at or timezone.now()
    if at < participation.joined_at:
        raise ValidationError({"left_at": "Leaving must not be before joining."})
    participation.left_at = at
    participation.save(update_fields=["left_at"])
    return participation
