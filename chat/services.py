"""Write paths of the chat app: channels, memberships, messages, reactions.

Keyword-only, atomic; a cross-tenant reference is a ``ValidationError`` that
names the field. Lifecycle fields (Channel.last_message_at, User.last_active)
are maintained by the receivers in chat/signals.py, not here.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import Channel, ChannelMembership, Message, MessageReaction
from companies.models import Company, User
from workspace.tenancy import ensure_same_company


@transaction.atomic
def channel_create(
    *,
    company: Company,
    name: str,
    created_by: User | None = None,
    topic: str = "",
    is_private: bool = False,
    members: list[User] | tuple[User, ...] = (),
) -> Channel:
    channel = Channel(
        company=company, name=name.strip(), topic=topic, is_private=is_private, created_by=created_by
    )
    channel.full_clean()
    channel.save()
    people = list(members)
    if created_by is not None and created_by not in people:
        people.insert(0, created_by)
    for user in people:
        membership_add(channel=channel, user=user)
    return channel


@transaction.atomic
def channel_update(*, channel: Channel, **fields) -> Channel:
    allowed = {"name", "topic", "is_private"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    for name, value in fields.items():
        setattr(channel, name, value.strip() if name == "name" else value)
    channel.full_clean()
    channel.save(update_fields=[*fields])
    return channel


@transaction.atomic
def channel_delete(*, channel: Channel) -> None:
    channel.delete()


@transaction.atomic
def membership_add(*, channel: Channel, user: User) -> ChannelMembership:
    ensure_same_company(channel.company_id, user=user)
    try:
        with transaction.atomic():
            return ChannelMembership.objects.create(channel=channel, user=user)
    except IntegrityError:
        raise ValidationError({"user": "This user is already a member of the channel."}) from None


@transaction.atomic
def membership_remove(*, channel: Channel, user: User) -> None:
    deleted, _ = ChannelMembership.objects.filter(channel=channel, user=user).delete()
    if not deleted:
        raise ValidationError({"user": "This user is not a member of the channel."})


def _validate_message(*, channel: Channel, author: User, body: str, parent: Message | None) -> str:
    ensure_same_company(channel.company_id, author=author)
    if parent is not None and parent.channel_id != channel.pk:
        raise ValidationError({"parent": "The parent message is in another channel."})
    body = body.strip()
    if not body:
        raise ValidationError({"body": "The message body may not be blank."})
    return body


@transaction.atomic
def message_create(
    *,
    channel: Channel,
    author: User,
    body: str,
    parent: Message | None = None,
    created_at: datetime | None = None,
) -> Message:
    body = _validate_message(channel=channel, author=author, body=body, parent=parent)
    return Message.objects.create(
        channel=channel,
        author=author,
        parent=parent,
        body=body,
        created_at=created_at or timezone.now(),
    )


@transaction.atomic
def message_update(*, message: Message, body: str) -> Message:
    body = body.strip()
    if not body:
        raise ValidationError({"body": "The message body may not be blank."})
    message.body = body
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "edited_at"])
    return message


@transaction.atomic
def message_delete(*, message: Message) -> None:
    message.delete()


@transaction.atomic
def reaction_add(*, message: Message, user: User, emoji: str) -> MessageReaction:
    ensure_same_company(message.channel.company_id, user=user)
    emoji = emoji.strip()
    if not emoji:
        raise ValidationError({"emoji": "The emoji may not be blank."})
    try:
        with transaction.atomic():
            return MessageReaction.objects.create(message=message, user=user, emoji=emoji)
    except IntegrityError:
        raise ValidationError({"emoji": "You already reacted with this emoji."}) from None


@transaction.atomic
def reaction_remove(*, message: Message, user: User, emoji: str) -> None:
    deleted, _ = MessageReaction.objects.filter(message=message, user=user, emoji=emoji).delete()
    if not deleted:
        raise ValidationError({"emoji": "You have not reacted with this emoji."})
