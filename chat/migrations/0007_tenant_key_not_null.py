# Tenant key, step 3a (contract): catch up rows written by the previous
# release since the backfill, make company_id NOT NULL (proved by a validated
# CHECK first on PostgreSQL, so SET NOT NULL does not scan under ACCESS
# EXCLUSIVE), and give channels and messages their UNIQUE (company_id, id).
import django.db.models.deletion
from django.db import migrations, models

from workspace.db.migrations_kit import backfill_company, drop_not_null_proof, prove_not_null

TABLES = [
    ("chat_channelmembership", "chat_channel", "channel_id", "channelmembership", "channel_memberships", True),
    ("chat_message", "chat_channel", "channel_id", "message", "messages", False),
    ("chat_messagereaction", "chat_message", "message_id", "messagereaction", "message_reactions", True),
]


def _operations():
    for table, parent_table, parent_column, _model, _related, _indexed in TABLES:
        yield migrations.RunPython(
            backfill_company(table, parent_table=parent_table, parent_column=parent_column),
            migrations.RunPython.noop,
        )
    for table, _parent_table, _parent_column, model, related_name, indexed in TABLES:
        yield prove_not_null(table, "company_id")
        yield migrations.AlterField(
            model_name=model,
            name="company",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name=related_name,
                to="companies.company",
                **({} if indexed else {"db_index": False}),
            ),
        )
        yield drop_not_null_proof(table, "company_id")


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0006_tenant_key_backfill"),
    ]

    operations = [
        *_operations(),
        migrations.AddConstraint(
            model_name="channel",
            constraint=models.UniqueConstraint(fields=("company", "id"), name="chat_channel_tenant_key"),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(fields=("company", "id"), name="chat_message_tenant_key"),
        ),
    ]
