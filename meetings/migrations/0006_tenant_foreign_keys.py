# Tenant key, contract: composite foreign keys, then the single-column
# constraints they replace are dropped. Not atomic (see chat 0008).
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import workspace.db.tenant

CASCADE = django.db.models.deletion.CASCADE


def tenant_fk(model: str, field: str) -> migrations.AddConstraint:
    return migrations.AddConstraint(
        model_name=model,
        constraint=workspace.db.tenant.TenantForeignKey(field=field, name=f"meetings_{model}_{field}_same_company"),
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("meetings", "0005_tenant_key_not_null"),
        ("chat", "0007_tenant_key_not_null"),
        ("companies", "0003_user_tenant_key"),
    ]

    operations = [
        tenant_fk("meeting", "organizer"),
        tenant_fk("meeting", "channel"),
        tenant_fk("meetingparticipant", "meeting"),
        tenant_fk("meetingparticipant", "user"),
        migrations.AlterField(
            model_name="meeting",
            name="organizer",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=CASCADE,
                related_name="organized_meetings",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="meeting",
            name="channel",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="meetings",
                to="chat.channel",
            ),
        ),
        migrations.AlterField(
            model_name="meetingparticipant",
            name="meeting",
            field=models.ForeignKey(
                db_constraint=False, on_delete=CASCADE, related_name="participations", to="meetings.meeting"
            ),
        ),
        migrations.AlterField(
            model_name="meetingparticipant",
            name="user",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=CASCADE,
                related_name="meeting_participations",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="meeting",
            name="company",
            field=models.ForeignKey(db_index=False, on_delete=CASCADE, related_name="meetings", to="companies.company"),
        ),
    ]
