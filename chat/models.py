from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from workspace.db.constraints import not_blank
from workspace.db.tenant import TenantForeignKey, TenantOwned, TenantQuerySet
from workspace.tenancy import ensure_same_company


def tenant_key(name: str) -> models.UniqueConstraint:
    """``UNIQUE (company_id, id)``: what the composite keys of children reference."""
    return models.UniqueConstraint(fields=["company", "id"], name=name)


class Channel(models.Model):
    # Indexed by chat_channel_tenant_key (company_id leads it).
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="channels", db_index=False)
    name = models.CharField(max_length=100)
    topic = models.CharField(max_length=250, blank=True, default="")
    is_private = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_channels",
        db_constraint=False,  # chat_channel_created_by_same_company
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Derived: created_at of the newest remaining message (docs/lifecycle.md).
    last_message_at = models.DateTimeField(null=True, blank=True, editable=False)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="ChannelMembership",
        related_name="channels",
        blank=True,
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "name"],
                name="chat_channel_unique_name_per_company",
                violation_error_message="A channel with this name already exists.",
            ),
            not_blank("name", "chat_channel_name_not_blank"),
            tenant_key("chat_channel_tenant_key"),
            TenantForeignKey(field="created_by", name="chat_channel_created_by_same_company"),
        ]

    def __str__(self) -> str:
        return f"#{self.name}"

    def clean(self) -> None:
        super().clean()
        if self.company_id and self.created_by_id:
            ensure_same_company(self.company_id, created_by=self.created_by)


class ChannelMembership(TenantOwned, models.Model):
    tenant_parent = "channel"

    # The channel's company, derived when not given (workspace/db/tenant.py).
    company = models.ForeignKey(
        "companies.Company",
        on_delete=models.CASCADE,
        related_name="channel_memberships",
        blank=True,
        editable=False,
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="memberships", db_constraint=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="channel_memberships",
        db_constraint=False,
    )

    objects = TenantQuerySet.as_manager()
    joined_at = models.DateTimeField(default=timezone.now)
    last_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "user"],
                name="chat_channelmembership_unique_member",
                violation_error_message="This user is already a member of the channel.",
            ),
            TenantForeignKey(field="channel", name="chat_channelmembership_channel_same_company"),
            TenantForeignKey(field="user", name="chat_channelmembership_user_same_company"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.channel_id}"

    def clean(self) -> None:
        super().clean()
        if self.channel_id and self.user_id:
            ensure_same_company(self.channel.company_id, user=self.user)


class Message(TenantOwned, models.Model):
    tenant_parent = "channel"

    # No single-column index: chat_msg_channel_created_idx leads with channel
    # and serves the FK (cascades) too. With both, PostgreSQL picked the
    # single-column one for the unread counts (created_at > the caller's read
    # mark, a parameter it estimates at a third of the rows) and filtered
    # every message of the channel (docs/api.md, "Read state").
    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="messages", db_index=False, db_constraint=False
    )
    # The channel's company, derived when not given (workspace/db/tenant.py).
    # Indexed by chat_message_tenant_key (company_id leads it).
    company = models.ForeignKey(
        "companies.Company",
        on_delete=models.CASCADE,
        related_name="messages",
        blank=True,
        editable=False,
        db_index=False,
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages", db_constraint=False
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies", db_constraint=False
    )

    objects = TenantQuerySet.as_manager()
    body = models.TextField(max_length=10_000)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Newest-first listing and the last_message_at recompute (MAX).
            models.Index(fields=["channel", "-created_at", "-id"], name="chat_msg_channel_created_idx"),
            # Newest message of a user (integrity audit of last_active).
            models.Index(fields=["author", "-created_at"], name="chat_msg_author_created_idx"),
        ]
        constraints = [
            not_blank("body", "chat_message_body_not_blank"),
            tenant_key("chat_message_tenant_key"),
            TenantForeignKey(field="channel", name="chat_message_channel_same_company"),
            TenantForeignKey(field="author", name="chat_message_author_same_company"),
            TenantForeignKey(field="parent", name="chat_message_parent_same_company"),
        ]

    def __str__(self) -> str:
        return f"{self.author_id}: {self.body[:40]}"

    def clean(self) -> None:
        super().clean()
        if self.channel_id and self.author_id:
            ensure_same_company(self.channel.company_id, author=self.author)
        if self.parent_id and self.channel_id and self.parent.channel_id != self.channel_id:
            raise ValidationError({"parent": "The parent message is in another channel."})


class MessageReaction(TenantOwned, models.Model):
    tenant_parent = "message"

    # The message's company, derived when not given (workspace/db/tenant.py).
    company = models.ForeignKey(
        "companies.Company",
        on_delete=models.CASCADE,
        related_name="message_reactions",
        blank=True,
        editable=False,
    )
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions", db_constraint=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions", db_constraint=False
    )

    objects = TenantQuerySet.as_manager()
    emoji = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"],
                name="chat_messagereaction_unique_per_user",
                violation_error_message="You already reacted with this emoji.",
            ),
            not_blank("emoji", "chat_messagereaction_emoji_not_blank"),
            TenantForeignKey(field="message", name="chat_messagereaction_message_same_company"),
            TenantForeignKey(field="user", name="chat_messagereaction_user_same_company"),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on {self.message_id}"

    def clean(self) -> None:
        super().clean()
        if self.message_id and self.user_id:
            ensure_same_company(self.message.channel.company_id, user=self.user)
