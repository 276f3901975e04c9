"""manage.py seed_demo: realistic, idempotent, written through the services."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from chat.models import Channel, Message
from companies.models import Company, User
from workspace.integrity.audit import audit
from workspace.testing import count_rows, snapshot_rows


def seed(**options):
    out = StringIO()
    call_command("seed_demo", no_progress=True, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


@pytest.fixture(autouse=True)
def development(settings):
    settings.DEBUG = True  # admin/admin is for development only (the test runner turns DEBUG off)


@pytest.fixture
def seeded(db):
    return seed(companies=2, users=4, messages=40)


def test_fills_companies_with_every_kind_of_row(seeded):
    assert set(Company.objects.values_list("slug", flat=True)) == {"acme", "globex"}
    for company in Company.objects.all():
        assert company.users.count() == 4
        assert Message.objects.filter(channel__company=company).count() == 40
        assert Message.objects.filter(channel__company=company, parent__isnull=False).exists()
        assert company.channels.filter(is_private=True).exists()
        assert company.meetings.exists() and company.attendances.exists()
    counts = count_rows(snapshot_rows())
    for label in ("chat.MessageReaction", "chat.ChannelMembership", "meetings.MeetingParticipant"):
        assert counts[label] > 0, label


def test_lifecycle_fields_are_right_because_the_services_wrote_everything(seeded):
    assert audit() == []
    channel = Channel.objects.filter(messages__isnull=False).first()
    assert channel.last_message_at == channel.messages.order_by("-created_at").first().created_at
    assert not User.objects.filter(messages__isnull=False, last_active__isnull=True).exists()


def test_prints_the_admin_login_and_an_api_token(seeded):
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.company is None and admin.check_password("admin")
    assert "login: admin / password: admin" in seeded
    token = AuthToken.objects.get()
    assert token.user.company is not None and token.user.is_company_admin
    # Stored hashed: the printed key is not in the database, but it works.
    key = next(word for word in seeded.split() if len(word) == 64 and word.isalnum())
    assert key not in token.digest
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/me/").json()["username"] == token.user.username


def without_tokens(snapshot):
    return {label: rows for label, rows in snapshot.items() if label != "knox.AuthToken"}


def test_running_twice_changes_nothing(seeded):
    # ... but the API token: it is stored hashed, so each run prints a new one.
    before = snapshot_rows()
    again = seed(companies=2, users=4, messages=40)
    assert without_tokens(snapshot_rows()) == without_tokens(before)
    assert AuthToken.objects.count() == 2
    assert "Authorization: Token " in again


def test_a_larger_target_tops_up(seeded):
    newest = Message.objects.filter(channel__company__slug="acme").order_by("-created_at").first().created_at
    seed(companies=3, users=4, messages=50)
    assert Company.objects.count() == 3
    for company in Company.objects.all():
        assert Message.objects.filter(channel__company=company).count() == 50
    # New messages come after the existing ones: time keeps moving forward.
    acme = Company.objects.get(slug="acme")
    assert Message.objects.filter(channel__company=acme, created_at__gt=newest).count() == 10
    assert audit() == []


def test_bad_options_are_a_command_error(db):
    with pytest.raises(CommandError):
        seed(users=1)


def test_refuses_to_run_with_debug_off_unless_forced(db, settings):
    # Every demo person gets the password 'password': not on a production
    # database by accident (issue #10).
    settings.DEBUG = False
    with pytest.raises(CommandError, match=r"DEBUG off.*--force"):
        seed(companies=1, users=2, messages=0, admin_password="s3cret-enough")
    assert not Company.objects.exists() and not User.objects.exists()
    seed(companies=1, users=2, messages=0, admin_password="s3cret-enough", force=True)
    assert Company.objects.count() == 1


def test_refusal_is_a_non_zero_exit_with_the_reason(tmp_path):
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "localhost",
        # A throwaway database: the refusal comes before any row is written.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'refused.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--no-progress", "--admin-password", "x"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Refusing to seed demo data with DEBUG off" in result.stderr and "--force" in result.stderr


def test_company_admins_get_the_staff_group(seeded):
    from django.contrib.auth.models import Permission

    admins = User.objects.filter(is_staff=True, company__isnull=False)
    assert admins.count() == 2
    for admin in admins:
        assert admin.has_perm("chat.view_message") and admin.has_perm("companies.change_user")
        assert not admin.has_perm("auth.change_group")
    assert Permission.objects.filter(group__name="Company staff (demo)", content_type__app_label="auth").count() == 0


def test_refuses_the_default_admin_password_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="admin-password"):
        seed(companies=1, users=2, messages=0, force=True)
    out = seed(companies=1, users=2, messages=0, admin_password="s3cret-enough", force=True)
    assert User.objects.get(username="admin").check_password("s3cret-enough")
    assert "s3cret-enough" in out
