"""Receivers that maintain ``User.last_active`` (docs/lifecycle.md)."""

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from companies.models import Attendance
from companies.services import user_touch


@receiver(user_logged_in, dispatch_uid="companies.user_logged_in")
def logged_in(sender, request, user, **kwargs):
    now = timezone.now()
    if user_touch(user_id=user.pk, at=now):
        user.last_active = now


@receiver(post_save, sender=Attendance, dispatch_uid="companies.attendance_saved")
def attendance_saved(sender, instance: Attendance, created: bool, using="default", **kwargs):
    # Check-in creates the row; check-out sets check_out on it.
    at = instance.check_in if created else instance.check_out
    if at is not None:
        user_touch(user_id=instance.user_id, at=at, using=using)
