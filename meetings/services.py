"""Write paths of the meetings app: meetings, participants, RSVP/join/leave."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chat.models import Channel
from companies.models import User
from companies.tenancy import lock_tenant
from meetings.models import Meeting, MeetingParticipant
from workspace.db.writes import (
    Forbidden,
    acts_for_platform,
    conflict,
    create_unique,
    not_found,
    update_allowed,
    validate,
)
from workspace.tenancy import ensure_same_company

# --- Permissions (docs/architecture.md, "Permissions") ------------------------

ORGANIZER_ONLY = "Only the organizer may change or delete a meeting."
ORGANIZER_ONLY_PARTICIPANTS = "Only the organizer may add or remove participants."
PARTICIPANTS_ONLY = "Only participants may RSVP, join or leave."
PARTICIPATION_EDITORS = "Only the organizer or the participant themselves may change a participation."


def is_organizer(*, meeting: Meeting, actor: User | None) -> bool:
    return acts_for_platform(actor) or (meeting.organizer_id == actor.pk and actor.company_id == meeting.company_id)


def meeting_authorize_edit(*, meeting: Meeting, actor: User | None) -> None:
    """Changing or cancelling a meeting: its organizer."""
    if not is_organizer(meeting=meeting, actor=actor):
        raise Forbidden(ORGANIZER_ONLY)


def participant_authorize_manage(*, meeting: Meeting, actor: User | None) -> None:
    """Adding or removing participants: the organizer."""
    if not is_organizer(meeting=meeting, actor=actor):
        raise Forbidden(ORGANIZER_ONLY_PARTICIPANTS)


def participant_authorize_self(*, meeting: Meeting, actor: User | None) -> None:
    """RSVP, join and leave: the participants (each for themselves)."""
    if actor is not None and not MeetingParticipant.objects.filter(meeting=meeting, user_id=actor.pk).exists():
        raise Forbidden(PARTICIPANTS_ONLY)


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
    validate(meeting)
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
                MeetingParticipant.Response.ACCEPTED if user.pk == organizer.pk else MeetingParticipant.Response.PENDING
            ),
        )
        for user in people.values()
    )
    return meeting


@transaction.atomic
def meeting_update(*, meeting: Meeting, actor: User | None = None, **fields) -> Meeting:
    lock_tenant(meeting.company_id)
    meeting_authorize_edit(meeting=meeting, actor=actor)
    if isinstance(fields.get("title"), str):
        fields["title"] = fields["title"].strip()
    return update_allowed(meeting, fields, allowed={"title", "description", "starts_at", "ends_at", "channel"})


@transaction.atomic
def meeting_delete(*, meeting: Meeting, actor: User | None = None) -> None:
    lock_tenant(meeting.company_id)
    meeting_authorize_edit(meeting=meeting, actor=actor)
    meeting.delete()


@transaction.atomic
def participant_add(*, meeting: Meeting, user: User, actor: User | None = None) -> MeetingParticipant:
    """Invite ``user`` (of the meeting's company) to ``meeting``, ``pending``:
    its organizer's doing. A duplicate is a ``ValidationError`` coded
    ``unique`` on ``user``."""
    lock_tenant(meeting.company_id)
    participant_authorize_manage(meeting=meeting, actor=actor)
    ensure_same_company(meeting.company_id, user=user)
    return create_unique(
        MeetingParticipant,
        field="user",
        error="This user is already a participant.",
        meeting=meeting,
        user=user,
    )


@transaction.atomic
def participant_remove(*, meeting: Meeting, user: User, actor: User | None = None) -> None:
    """Take ``user`` off ``meeting`` (the organizer's doing). The organizer
    always takes part in their meeting: removing them is a conflict. A
    meeting announced in a private channel stops being visible to the person
    removed unless they are a member of that channel
    (meetings/selectors.py)."""
    lock_tenant(meeting.company_id)
    participant_authorize_manage(meeting=meeting, actor=actor)
    if user.pk == meeting.organizer_id:
        raise conflict("The organizer always takes part in their meeting.", field="user")
    deleted, _ = MeetingParticipant.objects.filter(meeting=meeting, user=user).delete()
    if not deleted:
        raise not_found("This person is not a participant of the meeting.", field="user")


@transaction.atomic
def participant_update(
    *, participation: MeetingParticipant, actor: User | None = None, **changes
) -> MeetingParticipant:
    """Change a participation's ``response``, ``joined_at`` or ``left_at`` as
    given (the admin; the API goes through rsvp/join/leave): the organizer or
    the participant themselves. The row is validated whole (``left_at >=
    joined_at``)."""
    meeting = participation.meeting
    lock_tenant(meeting.company_id)
    if not (actor is not None and actor.pk == participation.user_id) and not is_organizer(meeting=meeting, actor=actor):
        raise Forbidden(PARTICIPATION_EDITORS)
    return update_allowed(participation, changes, allowed={"response", "joined_at", "left_at"})


def _participation(*, meeting: Meeting, user: User) -> MeetingParticipant:
    lock_tenant(meeting.company_id)
    participation = MeetingParticipant.objects.select_for_update().filter(meeting=meeting, user=user).first()
    if participation is None:
        raise Forbidden(PARTICIPANTS_ONLY)
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
        raise conflict("You have not joined this meeting.", field="user")
    at = at or timezone.now()
    if at < participation.joined_at:
        raise conflict("Leaving must not be before joining.", field="left_at")
    participation.left_at = at
    participation.save(update_fields=["left_at"])
    return participation
