# Tenant key, step 3b (contract): the composite foreign keys
# (company_id, x_id) -> parent (company_id, id), then the single-column
# constraints they replace are dropped (added first: no moment unchecked).
# Not atomic: on PostgreSQL each key is added NOT VALID in its own short
# transaction and validated afterwards under a lock that lets writes go on.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import workspace.db.tenant


def tenant_fk(model: str, field: str) -> migrations.AddConstraint:
    return migrations.AddConstraint(
        model_name=model,
        constraint=workspace.db.tenant.TenantForeignKey(field=field, name=f"chat_{model}_{field}_same_company"),
    )


def fk(**kwargs):
    return models.ForeignKey(db_constraint=False, **kwargs)


CASCADE = django.db.models.deletion.CASCADE


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("chat", "0007_tenant_key_not_null"),
        ("companies", "0003_user_tenant_key"),
    ]

    operations = [
        tenant_fk("channel", "created_by"),
        tenant_fk("channelmembership", "channel"),
        tenant_fk("channelmembership", "user"),
        tenant_fk("message", "channel"),
        tenant_fk("message", "author"),
        tenant_fk("message", "parent"),
        tenant_fk("messagereaction", "message"),
        tenant_fk("messagereaction", "user"),
        migrations.AlterField(
            model_name="channel",
            name="created_by",
            field=fk(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="created_channels",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="channelmembership",
            name="channel",
            field=fk(on_delete=CASCADE, related_name="memberships", to="chat.channel"),
        ),
        migrations.AlterField(
            model_name="channelmembership",
            name="user",
            field=fk(on_delete=CASCADE, related_name="channel_memberships", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="message",
            name="channel",
            field=fk(db_index=False, on_delete=CASCADE, related_name="messages", to="chat.channel"),
        ),
        migrations.AlterField(
            model_name="message",
            name="author",
            field=fk(on_delete=CASCADE, related_name="messages", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="message",
            name="parent",
            field=fk(blank=True, null=True, on_delete=CASCADE, related_name="replies", to="chat.message"),
        ),
        migrations.AlterField(
            model_name="messagereaction",
            name="message",
            field=fk(on_delete=CASCADE, related_name="reactions", to="chat.message"),
        ),
        migrations.AlterField(
            model_name="messagereaction",
            name="user",
            field=fk(on_delete=CASCADE, related_name="reactions", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="channel",
            name="company",
            field=models.ForeignKey(db_index=False, on_delete=CASCADE, related_name="channels", to="companies.company"),
        ),
    ]
