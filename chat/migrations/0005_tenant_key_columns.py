# Tenant key, step 1 of 3 (expand): company_id on memberships, messages and
# reactions, nullable so that adding it is instant on a populated table.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0004_message_channel_single_index_dropped"),
        ("companies", "0003_user_tenant_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="channelmembership",
            name="company",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="channel_memberships",
                to="companies.company",
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="company",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="messages",
                to="companies.company",
            ),
        ),
        migrations.AddField(
            model_name="messagereaction",
            name="company",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="message_reactions",
                to="companies.company",
            ),
        ),
    ]
