"""API tokens moved from rest_framework.authtoken (plaintext keys, no expiry)
to django-rest-knox (SHA-512 digests, expiring; docs/api.md). The old app is no
longer installed; its table, if a database has one, holds usable secrets in
clear: drop it. Nothing else refers to it (its only FK points at the user)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("knox", "0009_extend_authtoken_field")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop),
    ]
