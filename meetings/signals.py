"""Receivers that maintain derived fields: ``User.last_active`` for meeting
activity, ``Meeting.is_private`` when a channel's privacy changes."""

from django.db.models.signals import post_save
from django.utils import timezone

from chat.models import Channel
from companies.services import user_touch
from meetings.models import Meeting, MeetingParticipant

# Fields a participant changes themselves (RSVP, join, leave). Being added to
# a meeting by its organizer is not the participant's own activity.
_ACTIVITY_FIELDS = {"response", "joined_at", "left_at"}


def participant_saved(
    sender, instance: MeetingParticipant, created: bool, update_fields=None, using="default", **kwargs
):
    if created or not update_fields or not _ACTIVITY_FIELDS & set(update_fields):
        return
    if "left_at" in update_fields and instance.left_at:
        at = instance.left_at
    elif "joined_at" in update_fields and instance.joined_at:
        at = instance.joined_at
    else:
        at = timezone.now()
    user_touch(user_id=instance.user_id, at=at, using=using)


def channel_privacy_saved(sender, instance: Channel, created: bool, update_fields=None, using="default", **kwargs):
    """A channel turned private (or public) takes the meetings announced in it
    along: one UPDATE, only of the rows that differ (idempotent). A raw
    ``UPDATE chat_channel`` sends no signal: ``integrity_audit`` finds and
    fixes that drift (``stale_meeting_is_private``)."""
    if created or (update_fields is not None and "is_private" not in update_fields):
        return
    Meeting._base_manager.using(using).filter(channel_id=instance.pk).exclude(is_private=instance.is_private).update(
        is_private=instance.is_private
    )


def connect() -> None:
    """Connect the receivers (``AppConfig.ready()``); idempotent (``dispatch_uid``)."""
    post_save.connect(participant_saved, sender=MeetingParticipant, dispatch_uid="meetings.participant_saved")
    post_save.connect(channel_privacy_saved, sender=Channel, dispatch_uid="meetings.channel_privacy_saved")
