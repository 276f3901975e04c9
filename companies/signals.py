"""Receivers that maintain ``User.last_active`` (docs/lifecycle.md), and revoke
a user's API tokens when their password changes or they are deactivated."""

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from companies.models import Attendance, User
from companies.services import user_touch


def logged_in(sender, request, user, **kwargs):
    now = timezone.now()
    if user_touch(user_id=user.pk, at=now):
        user.last_active = now


def attendance_saved(sender, instance: Attendance, created: bool, using="default", **kwargs):
    # Check-in creates the row; check-out sets check_out on it.
    at = instance.check_in if created else instance.check_out
    if at is not None:
        user_touch(user_id=instance.user_id, at=at, using=using)


# --- API tokens: a password change or a deactivation revokes them all ----------
# (docs/api.md, "Authentication"). Every path that saves the user is caught:
# set_password() + save() (the admin's password form, `changepassword`, the
# services), a password hash assigned directly, `is_active=False` in the admin.
# The stored row is compared, so a save that changes neither costs one read
# and deletes nothing. A queryset .update() sends no signal; the token check
# itself still refuses the tokens of an inactive user (workspace/api/auth.py).

_CREDENTIAL_FIELDS = {"password", "is_active"}


def note_credential_change(sender, instance: User, raw=False, update_fields=None, using="default", **kwargs):
    instance._revoke_api_tokens = False
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not _CREDENTIAL_FIELDS & set(update_fields):
        return
    stored = sender._base_manager.using(using).filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    instance._revoke_api_tokens = stored["password"] != instance.password or (
        stored["is_active"] and not instance.is_active
    )


def revoke_tokens_on_credential_change(sender, instance: User, raw=False, using="default", **kwargs):
    if getattr(instance, "_revoke_api_tokens", False):
        instance._revoke_api_tokens = False
        from knox.models import AuthToken

        AuthToken.objects.using(using).filter(user_id=instance.pk).delete()


def connect() -> None:
    """Connect the receivers (``AppConfig.ready()``); idempotent (``dispatch_uid``)."""
    user_logged_in.connect(logged_in, dispatch_uid="companies.user_logged_in")
    post_save.connect(attendance_saved, sender=Attendance, dispatch_uid="companies.attendance_saved")
    pre_save.connect(note_credential_change, sender=User, dispatch_uid="companies.user_tokens_pre_save")
    post_save.connect(revoke_tokens_on_credential_change, sender=User, dispatch_uid="companies.user_tokens_post_save")
