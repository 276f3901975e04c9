"""Receivers that maintain the chat lifecycle fields (docs/lifecycle.md).

- ``Channel.last_message_at``: moved forward when a message is created;
  recomputed once per affected channel per delete operation.
- ``User.last_active``: moved forward when a user posts, edits or reacts.

They only maintain derived fields, are idempotent, and know their limits:
``bulk_create`` sends no ``post_save``: the tenant queryset's
``post_bulk_create`` (workspace/db/tenant.py) is handled here instead, once
per batch; ``QuerySet.update`` and raw SQL send nothing, and
``manage.py integrity_audit --fix`` repairs what raw SQL left stale.
"""

import threading
from dataclasses import dataclass, field

from django.db.models import Max
from django.db.models.signals import post_delete, post_save, pre_delete

from chat.models import Channel, Message, MessageReaction
from workspace.db.tenant import post_bulk_create
from chat.services import channel_recompute_last_message, channel_touch
from companies.hooks import rows_purging, user_erasing
from companies.services import user_touch
from workspace.metrics import LAST_MESSAGE_RECOMPUTES, LAST_MESSAGE_TOUCHES


def message_saved(sender, instance: Message, created: bool, update_fields=None, using="default", **kwargs):
    if created:
        channel_touch(channel_id=instance.channel_id, at=instance.created_at, using=using)
        LAST_MESSAGE_TOUCHES.inc()
        user_touch(user_id=instance.author_id, at=instance.created_at, using=using)
    elif instance.edited_at is not None and (update_fields is None or "edited_at" in update_fields):
        # An edit (message_update stamps edited_at) is the author's activity;
        # it never moves last_message_at. Never backwards, so re-saving an old
        # edit changes nothing.
        user_touch(user_id=instance.author_id, at=instance.edited_at, using=using)


def _newest(objs, key: str) -> dict[int, object]:
    newest = {}
    for obj in objs:
        at, owner = obj.created_at, getattr(obj, key)
        if owner not in newest or at > newest[owner]:
            newest[owner] = at
    return newest


def messages_bulk_created(sender, objs: list[Message], using: str = "default", **kwargs):
    # Once per channel and once per author with their newest created_at,
    # in id order (a stable lock order between concurrent imports).
    for channel_id, at in sorted(_newest(objs, "channel_id").items()):
        channel_touch(channel_id=channel_id, at=at, using=using)
        LAST_MESSAGE_TOUCHES.inc()
    for author_id, at in sorted(_newest(objs, "author_id").items()):
        user_touch(user_id=author_id, at=at, using=using)


def reactions_bulk_created(sender, objs: list[MessageReaction], using: str = "default", **kwargs):
    for user_id, at in sorted(_newest(objs, "user_id").items()):
        user_touch(user_id=user_id, at=at, using=using)


def reaction_saved(sender, instance: MessageReaction, created: bool, using="default", **kwargs):
    if created:
        user_touch(user_id=instance.user_id, at=instance.created_at, using=using)


# --- Deletes: once per affected channel per operation ----------------------
#
# Django's Collector sends pre_delete for every collected object, then deletes
# each model's rows in one batch and only then sends that model's post_delete
# signals. So the channels are gathered in pre_delete, and the first Message
# post_delete of an operation (identified by its ``origin``: the instance or
# queryset whose delete() started it) recomputes all of them in one statement,
# while later ones find nothing left to do. Channels deleted by the same
# operation are skipped. State is per thread: each thread deletes with its own
# connection and transaction.


@dataclass
class _DeleteOperation:
    channel_ids: set[int] = field(default_factory=set)
    deleted_channel_ids: set[int] = field(default_factory=set)


_local = threading.local()


def _operations() -> dict[tuple[str, int], _DeleteOperation]:
    try:
        return _local.operations
    except AttributeError:
        _local.operations = {}
        return _local.operations


def message_pre_delete(sender, instance: Message, using: str, origin=None, **kwargs):
    operation = _operations().setdefault((using, id(origin)), _DeleteOperation())
    operation.channel_ids.add(instance.channel_id)


def channel_pre_delete(sender, instance: Channel, using: str, origin=None, **kwargs):
    # The collector orders messages before their channel, so an operation that
    # deletes messages has registered itself by now.
    operation = _operations().get((using, id(origin)))
    if operation is not None:
        operation.deleted_channel_ids.add(instance.pk)


def message_post_delete(sender, instance: Message, using: str, origin=None, **kwargs):
    operation = _operations().pop((using, id(origin)), None)
    if operation is None:  # already recomputed for this operation
        return
    channel_ids = operation.channel_ids - operation.deleted_channel_ids
    channel_recompute_last_message(channel_ids=channel_ids, using=using)
    LAST_MESSAGE_RECOMPUTES.inc(len(channel_ids))


def user_erasing_channels(sender, user, using="default", **kwargs):
    """``companies.services.user_erase`` is about to delete a person with
    their messages: note the channels they posted in, and recompute those
    channels' ``last_message_at`` once after the delete (one statement)."""
    channel_ids = list(
        Message.objects.using(using).filter(author_id=user.pk).values_list("channel_id", flat=True).distinct()
    )

    def repair() -> None:
        channel_recompute_last_message(channel_ids=channel_ids, using=using)

    return repair


def messages_purging(sender, ids: list[int], using: str = "default", **kwargs):
    """A batch of the online tenant purge is about to delete messages ``ids``:
    the channels whose newest message may go (the batch holds a message at
    least as new as ``last_message_at``) are recomputed after the DELETE; the
    others keep theirs (their newest message remains)."""
    if sender is not Message:
        return None
    newest = dict(
        Message._base_manager.using(using)
        .filter(pk__in=ids)
        .order_by()
        .values("channel_id")
        .annotate(newest=Max("created_at"))
        .values_list("channel_id", "newest")
    )
    current = Channel._base_manager.using(using).filter(pk__in=newest).values_list("pk", "last_message_at")
    stale = [pk for pk, last in current if last is None or newest[pk] >= last]
    if not stale:
        return None
    return lambda: channel_recompute_last_message(channel_ids=stale, using=using)


def connect() -> None:
    """Connect the receivers (``AppConfig.ready()``); idempotent (``dispatch_uid``)."""
    post_save.connect(message_saved, sender=Message, dispatch_uid="chat.message_saved")
    post_save.connect(reaction_saved, sender=MessageReaction, dispatch_uid="chat.reaction_saved")
    post_bulk_create.connect(messages_bulk_created, sender=Message, dispatch_uid="chat.messages_bulk_created")
    post_bulk_create.connect(reactions_bulk_created, sender=MessageReaction, dispatch_uid="chat.reactions_bulk_created")
    pre_delete.connect(message_pre_delete, sender=Message, dispatch_uid="chat.message_pre_delete")
    pre_delete.connect(channel_pre_delete, sender=Channel, dispatch_uid="chat.channel_pre_delete")
    post_delete.connect(message_post_delete, sender=Message, dispatch_uid="chat.message_post_delete")
    user_erasing.connect(user_erasing_channels, dispatch_uid="chat.user_erasing")
    rows_purging.connect(messages_purging, dispatch_uid="chat.messages_purging")
