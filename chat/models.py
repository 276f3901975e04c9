from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from workspace.db.constraints import not_blank
from workspace.tenancy import ensure_same_company


class Channel(models.Model):
    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, related_name="channels"
    )
    name = models.CharField(max_length=100)
    topic = models.CharField(max_length=250, blank=True, default="")
    is_private = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_channels",
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
        ]

    def __str__(self) -> str:
        return f"#{self.name}"

    def clean(self) -> None:
        super().clean()
        if self.company_id and self.created_by_id:
            ensure_same_company(self.company_id, created_by=self.created_by)


class ChannelMembership(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_memberships"
    )
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
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.channel_id}"

    def clean(self) -> None:
        super().clean()
        if self.channel_id and self.user_id:
            ensure_same_company(self.channel.company_id, user=self.user)


class Message(models.Model):
    # No single-column index: chat_msg_channel_created_idx leads with channel
    # and serves the FK (cascades) too. With both, PostgreSQL picked the
    # single-column one for the unread counts (created_at > the caller's read
    # mark, a parameter it estimates at a third of the rows) and filtered
    # every message of the channel (docs/api.md, "Read state").
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages", db_index=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
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
        constraints = [not_blank("body", "chat_message_body_not_blank")]

    def __str__(self) -> str:
        return f"{self.author_id}: {self.body[:40]}"

    def clean(self) -> None:
        super().clean()
        if self.channel_id and self.author_id:
            ensure_same_company(self.channel.company_id, author=self.author)
        if self.parent_id and self.channel_id and self.parent.channel_id != self.channel_id:
            raise ValidationError({"parent": "The parent message is in another channel."})


class MessageReaction(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions"
    )
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
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on {self.message_id}"

    def clean(self) -> None:
        super().clean()
        if self.message_id and self.user_id:
            ensure_same_company(self.message.channel.company_id, user=self.user)
