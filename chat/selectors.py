"""Read paths of the chat app, scoped to what the caller may see.

A caller sees the channels of their own company that are public or of which
they are a member, and the messages of those channels. Everything else (another
tenant's, a private channel they are not in) does not exist for them: the views
answer 404 exactly as for a missing id.
"""

from django.db.models import (
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest

from datetime import datetime, timedelta

from django.utils import timezone

from chat.models import Channel, ChannelMembership, Message, MessageReaction
from companies.models import Company, User
from workspace.db.impact import Impact, plan


def _is_member(user: User, channel_ref: str = "pk") -> Exists:
    return Exists(ChannelMembership.objects.filter(channel_id=OuterRef(channel_ref), user_id=user.pk))


def channel_list_visible(*, user: User) -> QuerySet[Channel]:
    """Channels of the caller's company that are public or have them as member,
    annotated with ``is_member``."""
    if user.company_id is None:
        return Channel.objects.none()
    return (
        Channel.objects.filter(company_id=user.company_id)
        .annotate(is_member=_is_member(user))
        .filter(Q(is_private=False) | Q(is_member=True))
        .order_by("name", "id")
    )


def channel_members(*, channel: Channel) -> QuerySet[ChannelMembership]:
    return channel.memberships.select_related("user").order_by("joined_at", "id")


def _with_details(messages: QuerySet[Message]) -> QuerySet[Message]:
    replies = (
        Message.objects.filter(parent_id=OuterRef("pk"))
        .order_by()
        .values("parent_id")
        .annotate(count=Count("*"))
        .values("count")
    )
    return messages.annotate(
        reply_count=Coalesce(Subquery(replies, output_field=IntegerField()), Value(0))
    ).prefetch_related(Prefetch("reactions", queryset=MessageReaction.objects.order_by("created_at", "id")))


def message_list_visible(*, user: User) -> QuerySet[Message]:
    """Messages of every channel the caller can see, with ``reply_count`` and
    their reactions prefetched."""
    if user.company_id is None:
        return Message.objects.none()
    messages = Message.objects.filter(channel__company_id=user.company_id).filter(
        Q(channel__is_private=False) | _is_member(user, "channel_id")
    )
    return _with_details(messages)


def channel_messages(*, channel: Channel) -> QuerySet[Message]:
    """A channel's messages, replies included (the API's filter picks the
    top-level ones or one thread; the paginator orders newest first)."""
    return _with_details(Message.objects.filter(channel=channel))


def is_channel_member(*, channel: Channel, user: User) -> bool:
    annotated = getattr(channel, "is_member", None)
    if annotated is not None:
        return annotated
    return ChannelMembership.objects.filter(channel=channel, user=user).exists()


def channel_read_state(*, channels: QuerySet[Channel], user: User) -> QuerySet[Channel]:
    """``channels`` annotated with the caller's read state (docs/api.md, "Read
    state"), in the same single query whatever the number of channels:

    - ``last_read_at``: the caller's ``ChannelMembership.last_read_at`` (null
      when not a member or never marked read);
    - ``unread_count``: messages of the channel (thread replies included) not
      written by the caller and posted after the caller's read mark, which is
      the later of ``joined_at`` and ``last_read_at`` (a member who never read
      counts from when they joined; 0 for a non-member).

    Counted when read, from the messages that exist: a deleted message (any
    delete path, retention included) is no longer counted. The count walks the
    ``(channel, -created_at, -id)`` index from the read mark.
    """
    mine = FilteredRelation("memberships", condition=Q(memberships__user_id=user.pk))
    unread = (
        Message.objects.filter(channel_id=OuterRef("pk"), created_at__gt=OuterRef("read_mark"))
        .exclude(author_id=user.pk)
        .order_by()
        .values("channel_id")
        .annotate(count=Count("*"))
        .values("count")
    )
    return (
        channels.alias(mine=mine)
        .annotate(last_read_at=F("mine__last_read_at"))
        .alias(read_mark=Greatest(F("mine__joined_at"), Coalesce(F("mine__last_read_at"), F("mine__joined_at"))))
        .annotate(unread_count=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))
    )


# --- Impact previews (docs/lifecycle.md, "Impact previews") ----------------


def channel_delete_preview(*, channel: Channel) -> Impact:
    """What ``channel_delete`` removes: the channel, its memberships, its
    messages with their replies and reactions; meetings announced in it are
    detached (``channel`` set to NULL). One COUNT per table."""
    return plan(kind="channel_delete", subject=f"channel {channel.pk}", root=Channel.objects.filter(pk=channel.pk))


def retention_cutoff(*, days: int, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)


def retention_expired(*, company_id: int, cutoff: datetime):
    """The messages a retention run selects: those of the company's channels
    created before ``cutoff`` (their replies go with them, whatever their
    age: the delete policy cascades ``Message.parent``)."""
    return Message.objects.filter(channel__company_id=company_id, created_at__lt=cutoff)


def retention_preview(*, company: Company, days: int | None = None, now: datetime | None = None) -> Impact | None:
    """What the next retention run would delete with ``days`` (default: the
    company's setting), counted now: the expired messages plus the replies
    under them (a reply newer than the cutoff goes with its expired parent)
    and their reactions. None when retention is off."""
    days = company.message_retention_days if days is None else days
    if not days:
        return None
    cutoff = retention_cutoff(days=days, now=now)
    return plan(
        kind="retention_run",
        subject=f"messages of company {company.pk} older than {days} days",
        root=retention_expired(company_id=company.pk, cutoff=cutoff),
        parameters={"days": days, "cutoff": cutoff.isoformat()},
    )
