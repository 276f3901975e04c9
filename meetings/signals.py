"""Receivers that maintain ``User.last_active`` for meeting activity."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from companies.services import user_touch
from meetings.models import MeetingParticipant

# Fields a participant changes themselves (RSVP, join, leave). Being added to
# a meeting by its organizer is not the participant's own activity.
_ACTIVITY_FIELDS = {"response", "joined_at", "left_at"}


@receiver(post_save, sender=MeetingParticipant, dispatch_uid="meetings.participant_saved")
def participant_saved(sender, instance: MeetingParticipant, created: bool, update_fields=None, using="default", **kwargs):
    if created or not update_fields or not _ACTIVITY_FIELDS & set(update_fields):
        return
    if "left_at" in update_fields and instance.left_at:
        at = instance.left_at
    elif "joined_at" in update_fields and instance.joined_at:
        at = instance.joined_at
    else:
        at = timezone.now()
    user_touch(user_id=instance.user_id, at=at, using=using)
