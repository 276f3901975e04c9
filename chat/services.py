"""Write paths of the chat app: channels, memberships, messages, reactions.

Keyword-only, atomic; a cross-tenant reference is a ``ValidationError`` that
names the field. Lifecycle fields (Channel.last_message_at, User.last_active)
are maintained by the receivers in chat/signals.py, not here.
"""

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from chat.models import Channel, ChannelMembership, Message, MessageReaction
from companies.models import Company, DeletionReceipt, User
from workspace.db.receipts import ReceiptAccumulator
from companies.receipts import receipt_record
from companies.tenancy import lock_tenant
from workspace.db.writes import (
    Forbidden,
    acts_for_platform,
    create_unique,
    delete_cascading,
    is_company_admin,
    not_found,
    update_allowed,
    validate,
)
from workspace.tenancy import ensure_same_company

# --- Permissions (docs/architecture.md, "Permissions") ------------------------
# Each rule is checked by the service that writes, with the ``actor`` it is
# given (the API's and the admin's caller; None: the system). The API asks the
# same functions before validating a request's body, so that who may not act
# learns it first.

CHANNEL_MANAGERS = "Only the channel's creator or a company admin may change or delete it."
MEMBER_REMOVERS = "Only the member themselves, the channel's creator or a company admin may remove a member."
PRIVATE_CHANNEL_ADDERS = "Only members of a private channel may add people to it."
READ_STATE_EDITORS = "Only the member themselves, the channel's creator or a company admin may change a read state."
MESSAGE_EDITORS = "Only the author may edit a message."
NOT_A_MEMBER = "Only members of the channel have a read state: join it first."
POSTERS = "Only members of the channel may post in it."
POST_AS_SELF = "A message is posted by its author."
NOT_REACTED = "You have not reacted with this emoji."
MESSAGE_DELETERS = "Only the author or a company admin may delete a message."


def may_manage_channel(*, channel: Channel, actor: User | None) -> bool:
    """The channel's creator or an admin of its company (or the platform)."""
    return (
        acts_for_platform(actor)
        or is_company_admin(actor, channel.company_id)
        or (actor.company_id == channel.company_id and channel.created_by_id == actor.pk)
    )


def channel_authorize_manage(*, channel: Channel, actor: User | None) -> None:
    """Renaming, changing or deleting a channel."""
    if not may_manage_channel(channel=channel, actor=actor):
        raise Forbidden(CHANNEL_MANAGERS)


def membership_authorize_remove(*, channel: Channel, user_id: int, actor: User | None) -> None:
    """Leaving (yourself), or removing someone (a channel manager)."""
    if actor is not None and actor.pk == user_id and actor.company_id == channel.company_id:
        return
    if not may_manage_channel(channel=channel, actor=actor):
        raise Forbidden(MEMBER_REMOVERS)


def membership_authorize_add(*, channel: Channel, actor: User | None) -> None:
    """Anyone of the company may add people to a public channel; to a
    private one, its members (the only ones who can see it)."""
    if acts_for_platform(actor) or not channel.is_private:
        return
    if not ChannelMembership.objects.filter(channel=channel, user_id=actor.pk).exists():
        raise Forbidden(PRIVATE_CHANNEL_ADDERS)


def channel_authorize_member(*, channel: Channel, actor: User | None, message: str) -> None:
    """Posting and read state are for the channel's members (``message``
    says which)."""
    if acts_for_platform(actor) or ChannelMembership.objects.filter(channel=channel, user_id=actor.pk).exists():
        return
    if not Channel.objects.filter(pk=channel.pk).exists():
        # Deleted meanwhile (its memberships went with it): a 404, not a 403.
        raise Channel.DoesNotExist("No such channel (deleted meanwhile).")
    raise Forbidden(message)


def message_authorize_post(*, channel: Channel, author: User, actor: User | None) -> None:
    """Posting: as yourself, in a channel you are a member of."""
    if acts_for_platform(actor):
        return
    if actor.pk != author.pk:
        raise Forbidden(POST_AS_SELF)
    channel_authorize_member(channel=channel, actor=actor, message=POSTERS)


def message_authorize_edit(*, message: Message, actor: User | None) -> None:
    if not (acts_for_platform(actor) or message.author_id == actor.pk):
        raise Forbidden(MESSAGE_EDITORS)


def message_authorize_delete(*, message: Message, actor: User | None) -> None:
    if not (
        acts_for_platform(actor) or message.author_id == actor.pk or is_company_admin(actor, message.channel.company_id)
    ):
        raise Forbidden(MESSAGE_DELETERS)


# --- Lifecycle: Channel.last_message_at (docs/lifecycle.md) -----------------


def channel_touch(*, channel_id: int, at: datetime, using: str = "default") -> None:
    """Move ``last_message_at`` forward to ``at`` (a new message's created_at).

    A single UPDATE whose SET can only move the value forward
    (``GREATEST(COALESCE(last_message_at, at), at)``). The condition sits in
    the expression rather than in the WHERE clause on purpose: the statement
    then always takes the channel's row lock, which serialises it with a
    concurrent ``channel_recompute_last_message`` (see that function) — a
    WHERE-conditional update that matched no row would take no lock, and a
    recompute racing with it could miss this message.

    It runs on every post, so it is sent as plain SQL: building the same
    statement through the ORM (filter, expressions, compiler) cost more CPU
    than the database spends on it (docs/PERFORMANCE.md). ``GREATEST`` is
    ``MAX`` on SQLite, as for the ORM's ``Greatest``; the value is adapted as
    the ORM adapts it.
    """
    connection = connections[using]
    qn = connection.ops.quote_name
    column = qn(Channel._meta.get_field("last_message_at").column)
    greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    value = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(Channel._meta.db_table)} SET {column} = {greatest}(COALESCE({column}, %s), %s) "
            f"WHERE {qn(Channel._meta.pk.column)} = %s",
            [value, value, channel_id],
        )


def channel_recompute_last_message(*, channel_ids: Iterable[int], using: str = "default") -> int:
    """Set ``last_message_at`` of the given channels to the ``created_at`` of
    their newest remaining message (null when none): two statements for any
    number of channels. Returns the number of channels updated.

    The channel rows are locked first (``FOR NO KEY UPDATE``, in id order so
    two recomputes cannot deadlock; it does not block the FK checks of
    concurrent inserts). Under READ COMMITTED the UPDATE then takes a fresh
    snapshot, so it sees every message whose poster committed before the lock
    was granted; a poster that commits later runs ``channel_touch`` after us
    and moves the value forward itself.
    """
    ids = sorted(set(channel_ids))
    if not ids:
        return 0
    channels = Channel.objects.using(using).filter(pk__in=ids)
    with transaction.atomic(using=using):
        if connections[using].features.has_select_for_update:
            list(channels.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True))
        newest = (
            Message.objects.using(using).filter(channel=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
        )
        return channels.update(last_message_at=Subquery(newest))


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
    lock_tenant(company.pk)
    channel = Channel(company=company, name=name.strip(), topic=topic, is_private=is_private, created_by=created_by)
    validate(channel)
    foreign = [user for user in members if user.company_id != company.pk]
    if foreign:
        raise ValidationError({"members": f"User {foreign[0].pk} belongs to another company."})
    channel.save()
    people = list(members)
    if created_by is not None and created_by not in people:
        people.insert(0, created_by)
    for user in people:
        membership_add(channel=channel, user=user)
    return channel


@transaction.atomic
def channel_update(*, channel: Channel, actor: User | None = None, **fields) -> Channel:
    lock_tenant(channel.company_id)
    channel_authorize_manage(channel=channel, actor=actor)
    if isinstance(fields.get("name"), str):
        fields["name"] = fields["name"].strip()
    return update_allowed(channel, fields, allowed={"name", "topic", "is_private"})


@transaction.atomic
def channel_delete(*, channel: Channel, actor: User | None = None) -> None:
    """Delete a channel with its memberships and messages (replies and
    reactions included) in one statement: the database cascades (ON DELETE
    CASCADE; meetings announced in it stay, with ``channel`` set to NULL by ON
    DELETE SET NULL). ``channel.delete()`` would go through Django's
    collector, which loads every message of the channel into memory (delete
    receivers are connected): time, queries and memory growing with the
    channel (docs/PERFORMANCE.md). No lifecycle field outside the channel
    depends on its messages: replies live in their parent's channel, and
    ``last_active`` never moves back.

    The channel row is locked first (posts into it and new memberships wait,
    then fail their FK check), and a deletion receipt (kind
    ``channel_delete``) is written in the same transaction.
    """
    from chat.selectors import channel_delete_preview

    lock_tenant(channel.company_id)
    channel_authorize_manage(channel=channel, actor=actor)
    if not Channel.objects.select_for_update().filter(pk=channel.pk).values_list("pk", flat=True):
        raise Channel.DoesNotExist(f"Channel {channel.pk} does not exist.")
    impact = channel_delete_preview(channel=channel)
    accumulator = ReceiptAccumulator.from_impact(impact)
    delete_cascading(Channel, channel.pk)
    receipt_record(
        kind=DeletionReceipt.Kind.CHANNEL_DELETE,
        subject=impact.subject,
        company_id=channel.company_id,
        actor=actor,
        accumulator=accumulator,
    )
    channel.pk = None


@transaction.atomic
def membership_add(*, channel: Channel, user: User, actor: User | None = None) -> ChannelMembership:
    lock_tenant(channel.company_id)
    membership_authorize_add(channel=channel, actor=actor)
    ensure_same_company(channel.company_id, user=user)
    return create_unique(
        ChannelMembership,
        field="user",
        error="This user is already a member of the channel.",
        channel=channel,
        user=user,
    )


@transaction.atomic
def membership_remove(*, channel: Channel, user: User, actor: User | None = None) -> None:
    lock_tenant(channel.company_id)
    membership_authorize_remove(channel=channel, user_id=user.pk, actor=actor)
    deleted, _ = ChannelMembership.objects.filter(channel=channel, user=user).delete()
    if not deleted:
        raise not_found("This person is not a member of the channel.", field="user")


@transaction.atomic
def membership_update(*, membership: ChannelMembership, actor: User | None = None, **changes) -> ChannelMembership:
    """Change a membership's ``last_read_at`` (the admin; the API moves it
    forward only, with ``membership_mark_read``): the member themselves or a
    manager of the channel."""
    channel = membership.channel
    lock_tenant(channel.company_id)
    if not (actor is not None and actor.pk == membership.user_id) and not may_manage_channel(
        channel=channel, actor=actor
    ):
        raise Forbidden(READ_STATE_EDITORS)
    return update_allowed(membership, changes, allowed={"last_read_at"})


@transaction.atomic
def membership_mark_read(*, channel: Channel, user: User, message: Message | None = None) -> datetime | None:
    """Move ``user``'s ``last_read_at`` in ``channel`` forward to ``message``'s
    ``created_at`` (without ``message``: the newest message of the channel's,
    replies included; with no message at all nothing moves). Returns the
    membership's ``last_read_at`` afterwards (null: never read).

    One conditional UPDATE (``... WHERE last_read_at IS NULL OR last_read_at <
    %s``): the row is only ever written forward, so two marks racing each
    other (two tabs, two devices) end at the later one whatever order they
    commit in, and an older mark never moves it back. A ``ValidationError`` on
    ``message`` when it is in another channel; ``Forbidden`` when ``user`` is
    not a member (docs/api.md, "Read state").
    """
    lock_tenant(channel.company_id)
    if message is not None:
        if message.channel_id != channel.pk:
            raise ValidationError({"message": "The message is in another channel."})
        at = message.created_at
    else:
        at = (
            Message.objects.filter(channel=channel)
            .order_by("-created_at", "-id")
            .values_list("created_at", flat=True)
            .first()
        )
    membership = ChannelMembership.objects.filter(channel=channel, user=user)
    if at is not None and membership.filter(Q(last_read_at__isnull=True) | Q(last_read_at__lt=at)).update(
        last_read_at=at
    ):
        return at
    current = membership.values_list("last_read_at", flat=True)
    if not current:
        raise Forbidden(NOT_A_MEMBER)
    return current[0]


BODY_MAX_LENGTH = Message._meta.get_field("body").max_length
EMOJI_MAX_LENGTH = MessageReaction._meta.get_field("emoji").max_length


def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError({"body": "The message body may not be blank."})
    # A TextField's max_length is not a database constraint: check it here.
    if len(body) > BODY_MAX_LENGTH:
        raise ValidationError({"body": f"Ensure the message has at most {BODY_MAX_LENGTH} characters."})
    return body


def _validate_message(*, channel: Channel, author: User, body: str, parent: Message | None) -> str:
    ensure_same_company(channel.company_id, author=author)
    if parent is not None and parent.channel_id != channel.pk:
        raise ValidationError({"parent": "The parent message is in another channel."})
    return _clean_body(body)


@transaction.atomic
def message_create(
    *,
    channel: Channel,
    author: User,
    body: str,
    parent: Message | None = None,
    created_at: datetime | None = None,
    actor: User | None = None,
) -> Message:
    lock_tenant(channel.company_id)
    message_authorize_post(channel=channel, author=author, actor=actor)
    body = _validate_message(channel=channel, author=author, body=body, parent=parent)
    return Message.objects.create(
        channel=channel,
        author=author,
        parent=parent,
        body=body,
        created_at=created_at or timezone.now(),
    )


@transaction.atomic
def message_bulk_create(*, messages: list[Message], batch_size: int = 1000) -> list[Message]:
    """Insert many messages (imports) in batches.

    The lifecycle fields are maintained by the ``post_bulk_create``
    receivers, set-based: each affected channel is touched once with its
    newest imported ``created_at`` and each author once with theirs (so a
    plain ``Message.objects.bulk_create`` keeps them exact too).
    """
    if not messages:
        return []
    channels = {m.channel_id: m.channel for m in messages}
    for company_id in sorted({c.company_id for c in channels.values()}):
        lock_tenant(company_id)
    for message in messages:
        message.body = _validate_message(
            channel=channels[message.channel_id],
            author=message.author,
            body=message.body,
            parent=message.parent,
        )
        if message.created_at is None:
            message.created_at = timezone.now()
    # The manager fills company_id, and its post_bulk_create receivers
    # (chat/signals.py) touch each channel and author once.
    created = Message.objects.bulk_create(messages, batch_size=batch_size)
    return created


@transaction.atomic
def message_update(*, message: Message, body: str, actor: User | None = None) -> Message:
    lock_tenant(message.channel.company_id)
    message_authorize_edit(message=message, actor=actor)
    body = _clean_body(body)
    message.body = body
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "edited_at"])
    return message


@transaction.atomic
def message_delete(*, message: Message, actor: User | None = None) -> None:
    lock_tenant(message.channel.company_id)
    message_authorize_delete(message=message, actor=actor)
    message.delete()


@transaction.atomic
def reaction_add(*, message: Message, user: User, emoji: str) -> MessageReaction:
    lock_tenant(message.channel.company_id)
    ensure_same_company(message.channel.company_id, user=user)
    emoji = emoji.strip()
    if not emoji:
        raise ValidationError({"emoji": "The emoji may not be blank."})
    if len(emoji) > EMOJI_MAX_LENGTH:
        raise ValidationError({"emoji": f"Ensure the emoji has at most {EMOJI_MAX_LENGTH} characters."})
    return create_unique(
        MessageReaction,
        field="emoji",
        error="You already reacted with this emoji.",
        message=message,
        user=user,
        emoji=emoji,
    )


@transaction.atomic
def reaction_remove(*, message: Message, user: User, emoji: str) -> None:
    lock_tenant(message.channel.company_id)
    deleted, _ = MessageReaction.objects.filter(message=message, user=user, emoji=emoji).delete()
    if not deleted:
        raise not_found(NOT_REACTED, field="emoji")


# --- Retention (docs/lifecycle.md, "Retention") -----------------------------

#: Expired messages selected per batch (their replies and reactions go too).
RETENTION_BATCH_SIZE = 1000


@dataclass
class RetentionBatch:
    """One committed batch of a retention run (passed to ``on_batch``)."""

    company_id: int
    number: int
    counts: dict[str, int]
    channel_ids: list[int]
    seconds: float


@dataclass
class RetentionResult:
    company_id: int
    run: uuid.UUID | None = None
    days: int | None = None
    cutoff: datetime | None = None
    batches: int = 0
    max_batch_seconds: float = 0.0
    accumulator: ReceiptAccumulator = field(default_factory=ReceiptAccumulator)

    @property
    def counts(self) -> dict[str, int]:
        return dict(sorted(self.accumulator.counts.items()))

    @property
    def deleted(self) -> int:
        return sum(self.accumulator.counts.values())


def _retention_batch(
    *,
    company: Company,
    channel_id: int,
    cutoff: datetime,
    batch_size: int,
    run: uuid.UUID,
    number: int,
    days: int,
    actor,
) -> tuple[ReceiptAccumulator, list[int]] | None:
    """One short transaction: pick the ``batch_size`` oldest expired
    messages of one channel (a backward range scan of the ``(channel,
    -created_at, -id)`` index: no sort of the whole tenant's expired
    messages per batch), lock them with the replies under them, delete them
    (the database cascades replies and reactions), recompute
    ``last_message_at`` of their channel(s) and append the batch's receipt.
    None when the channel has nothing left to delete."""
    from workspace.db.impact import plan

    with transaction.atomic():
        lock_tenant(company.pk)
        if connection.vendor == "postgresql":
            # The closure queries are priced far above their cost (see
            # workspace/db/impact.py): no JIT compilation per batch.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        expired = Message.objects.filter(channel_id=channel_id, created_at__lt=cutoff).order_by("created_at", "id")
        ids = list(expired.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return None
        if connection.features.has_select_for_update:
            # Lock order: the channels first (id order, as every recompute),
            # then the messages. A post takes its channel's row lock
            # (channel_touch) before its deferred FK checks run at commit, so
            # locking the messages first could deadlock with a reply in
            # flight. Locked messages make a reply or a reaction to them wait,
            # then fail its FK check: the receipt counts exactly what goes.
            channel_ids = sorted(set(Message.objects.filter(pk__in=ids).values_list("channel_id", flat=True)))
            list(
                Channel.objects.filter(pk__in=channel_ids)
                .select_for_update(no_key=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            ids = list(
                Message.objects.filter(pk__in=ids).select_for_update().order_by("pk").values_list("pk", flat=True)
            )
            if not ids:  # deleted meanwhile by another path: pick again
                return ReceiptAccumulator(), []
        impact = plan(
            kind=DeletionReceipt.Kind.RETENTION_RUN,
            subject=f"messages of company {company.pk} older than {days} days",
            root=Message.objects.filter(pk__in=ids),
        )
        messages = impact.deleted[Message]
        if connection.features.has_select_for_update:
            channel_ids = sorted(set(messages.select_for_update().values_list("channel_id", flat=True)))
        else:
            channel_ids = sorted(set(messages.values_list("channel_id", flat=True)))
        accumulator = ReceiptAccumulator.from_impact(impact)
        qn = connection.ops.quote_name
        placeholders = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {qn(Message._meta.db_table)} WHERE id IN ({placeholders})", ids)
        channel_recompute_last_message(channel_ids=channel_ids)
        receipt_record(
            kind=DeletionReceipt.Kind.RETENTION_RUN,
            subject=impact.subject,
            company=company,
            actor=actor,
            accumulator=accumulator,
            run=run,
            batch=number,
            parameters={"days": days, "cutoff": cutoff.isoformat(), "batch_size": batch_size},
        )
    return accumulator, channel_ids


def retention_apply(
    *,
    company: Company,
    batch_size: int = RETENTION_BATCH_SIZE,
    now: datetime | None = None,
    actor: User | None = None,
    on_batch: Callable[[RetentionBatch], None] | None = None,
) -> RetentionResult:
    """Delete the company's messages older than its ``message_retention_days``
    (nothing when it is null), in batches of at most ``batch_size`` expired
    messages, each its own short transaction (docs/lifecycle.md,
    "Retention"). After every batch each affected channel's
    ``last_message_at`` is exact (recomputed in the batch's transaction), and
    the batch's receipt is committed with it (one ``run`` id groups them).
    ``on_batch`` is called after each commit (progress bars, tests).

    The cutoff is fixed at the start (``now`` - days): messages that expire
    during the run wait for the next run.
    """
    if batch_size < 1:
        raise ValidationError({"batch_size": "The batch size must be at least 1."})
    days = Company.objects.filter(pk=company.pk).values_list("message_retention_days", flat=True).first()
    result = RetentionResult(company_id=company.pk, days=days)
    if not days:
        return result
    from chat.selectors import retention_cutoff

    result.cutoff = retention_cutoff(days=days, now=now)
    result.run = uuid.uuid4()
    # Channel by channel (a channel created during the run has nothing
    # expired); within a channel, oldest first.
    channel_ids = list(Channel.objects.filter(company_id=company.pk).order_by("pk").values_list("pk", flat=True))
    for channel_id in channel_ids:
        while True:
            started = time.perf_counter()
            done = _retention_batch(
                company=company,
                channel_id=channel_id,
                cutoff=result.cutoff,
                batch_size=batch_size,
                run=result.run,
                number=result.batches + 1,
                days=days,
                actor=actor,
            )
            if done is None:
                break
            accumulator, touched = done
            if accumulator.counts:
                _retention_batch_done(result, accumulator, touched, time.perf_counter() - started, on_batch)
    return result


def _retention_batch_done(result, accumulator, channel_ids, seconds, on_batch) -> None:
    result.batches += 1
    result.max_batch_seconds = max(result.max_batch_seconds, seconds)
    result.accumulator.merge(accumulator)
    if on_batch is not None:
        on_batch(
            RetentionBatch(
                company_id=result.company_id,
                number=result.batches,
                counts=dict(accumulator.counts),
                channel_ids=channel_ids,
                seconds=seconds,
            )
        )


def retention_run_all(
    *,
    batch_size: int = RETENTION_BATCH_SIZE,
    now: datetime | None = None,
    on_batch: Callable[[RetentionBatch], None] | None = None,
) -> list[RetentionResult]:
    """Apply retention to every company that has it set: the entry point of
    the periodic job (one company after the other; each batch commits on its
    own, so a run stopped midway resumes by simply running again)."""
    results = []
    for company in Company.objects.filter(message_retention_days__isnull=False).order_by("pk"):
        results.append(retention_apply(company=company, batch_size=batch_size, now=now, on_batch=on_batch))
    return results
