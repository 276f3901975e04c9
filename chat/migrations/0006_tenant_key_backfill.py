# Tenant key, step 2 of 3: fill company_id from the parent, set-based, in
# batches of 10,000 ids, each batch its own short transaction (the migration
# is not atomic), so a large table is never locked for long and a failure
# keeps the batches already done (rerunning resumes: only NULLs are filled).
from django.db import migrations

from workspace.db.migrations_kit import backfill_company


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("chat", "0005_tenant_key_columns"),
    ]

    operations = [
        migrations.RunPython(
            backfill_company("chat_channelmembership", parent_table="chat_channel", parent_column="channel_id"),
            migrations.RunPython.noop,
        ),
        migrations.RunPython(
            backfill_company("chat_message", parent_table="chat_channel", parent_column="channel_id"),
            migrations.RunPython.noop,
        ),
        migrations.RunPython(
            backfill_company("chat_messagereaction", parent_table="chat_message", parent_column="message_id"),
            migrations.RunPython.noop,
        ),
    ]
