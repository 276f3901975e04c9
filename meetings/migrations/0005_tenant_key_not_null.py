# Tenant key, contract: catch-up backfill, NOT NULL (proved first on
# PostgreSQL), and meetings' UNIQUE (company_id, id).
import django.db.models.deletion
from django.db import migrations, models

from workspace.db.migrations_kit import backfill_company, drop_not_null_proof, prove_not_null


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0004_tenant_key_columns"),
    ]

    operations = [
        migrations.RunPython(
            backfill_company(
                "meetings_meetingparticipant", parent_table="meetings_meeting", parent_column="meeting_id"
            ),
            migrations.RunPython.noop,
        ),
        prove_not_null("meetings_meetingparticipant", "company_id"),
        migrations.AlterField(
            model_name="meetingparticipant",
            name="company",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="meeting_participations",
                to="companies.company",
            ),
        ),
        drop_not_null_proof("meetings_meetingparticipant", "company_id"),
        migrations.AddConstraint(
            model_name="meeting",
            constraint=models.UniqueConstraint(fields=("company", "id"), name="meetings_meeting_tenant_key"),
        ),
    ]
