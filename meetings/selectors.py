"""Read paths of the meetings app, scoped to what the caller may see.

A meeting is visible to the people of its company, except one announced in a
private channel (``Meeting.is_private``): that one only to the channel's
members, its organizer and its participants; once that channel is deleted, to
its organizer and participants only (``is_private`` stays True when the
database sets ``channel`` to NULL: a delete never widens visibility,
docs/delete-policy.md).
"""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from chat.models import ChannelMembership
from companies.models import User
from meetings.models import Meeting, MeetingParticipant


def meeting_list_visible(*, user: User) -> QuerySet[Meeting]:
    if user.company_id is None:
        return Meeting.objects.none()
    participates = Exists(MeetingParticipant.objects.filter(meeting_id=OuterRef("pk"), user_id=user.pk))
    in_channel = Exists(ChannelMembership.objects.filter(channel_id=OuterRef("channel_id"), user_id=user.pk))
    return (
        Meeting.objects.filter(company_id=user.company_id)
        .filter(Q(is_private=False) | Q(organizer_id=user.pk) | participates | in_channel)
        .prefetch_related(Prefetch("participations", queryset=MeetingParticipant.objects.order_by("id")))
        .order_by("starts_at", "id")
    )


def participation(*, meeting: Meeting, user: User) -> MeetingParticipant | None:
    return MeetingParticipant.objects.filter(meeting=meeting, user=user).first()


def participation_of(*, meeting: Meeting, user_id: int) -> MeetingParticipant | None:
    """``user_id``'s participation in ``meeting`` (with the user), or None."""
    return MeetingParticipant.objects.select_related("user").filter(meeting=meeting, user_id=user_id).first()
