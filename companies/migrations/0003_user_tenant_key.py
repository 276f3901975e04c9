# The tenant key (docs/delete-policy.md, "Tenant key"): users expose
# UNIQUE (company_id, id) for the composite keys of chat and meetings, and an
# attendance's user must be of the attendance's company. The composite key is
# added before the single-column FK it replaces is dropped, so no moment goes
# unchecked; company_id's own index is dropped last (the tenant key leads
# with it).
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import workspace.db.tenant


class Migration(migrations.Migration):
    dependencies = [
        ("companies", "0002_not_blank_strips_all_whitespace"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(fields=("company", "id"), name="companies_user_tenant_key"),
        ),
        migrations.AddConstraint(
            model_name="attendance",
            constraint=workspace.db.tenant.TenantForeignKey(
                field="user", name="companies_attendance_user_same_company"
            ),
        ),
        migrations.AlterField(
            model_name="attendance",
            name="user",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="attendances",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="company",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="Null only for platform superusers.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="users",
                to="companies.company",
            ),
        ),
    ]
