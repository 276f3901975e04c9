# Tenant key, expand and backfill: company_id on participations, nullable,
# then filled from the meeting in batches of 10,000 ids, each its own short
# transaction (not atomic; rerunning resumes).
import django.db.models.deletion
from django.db import migrations, models

from workspace.db.migrations_kit import backfill_company


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("meetings", "0003_meeting_is_private"),
        ("companies", "0003_user_tenant_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="meetingparticipant",
            name="company",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="meeting_participations",
                to="companies.company",
            ),
        ),
        migrations.RunPython(
            backfill_company(
                "meetings_meetingparticipant", parent_table="meetings_meeting", parent_column="meeting_id"
            ),
            migrations.RunPython.noop,
        ),
    ]
