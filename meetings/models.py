from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from workspace.db.constraints import not_blank
from workspace.db.tenant import TenantForeignKey, TenantOwned, TenantQuerySet
from workspace.tenancy import ensure_same_company


class Meeting(models.Model):
    # Indexed by meetings_meeting_tenant_key (company_id leads it).
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="meetings", db_index=False)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="organized_meetings",
        db_constraint=False,  # meetings_meeting_organizer_same_company
    )
    channel = models.ForeignKey(
        "chat.Channel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="meetings",
        db_constraint=False,  # meetings_meeting_channel_same_company
    )
    # Announced in a private channel (derived from ``channel``; see save()).
    # It stays True when that channel is deleted (``channel`` becomes NULL):
    # a delete must never widen who can see a row (docs/delete-policy.md).
    is_private = models.BooleanField(
        default=False,
        db_default=False,  # raw INSERTs (bench, psql) that omit it: not private
        editable=False,
        help_text="Announced in a private channel: visible to its organizer, its participants "
        "and the channel's members only; still restricted (organizer and participants) "
        "once that channel is deleted.",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="MeetingParticipant",
        related_name="meetings",
        blank=True,
    )

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["company", "starts_at"], name="meetings_company_starts_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="meetings_meeting_ends_after_start",
                violation_error_message="A meeting must end after it starts.",
            ),
            not_blank("title", "meetings_meeting_title_not_blank"),
            models.UniqueConstraint(fields=["company", "id"], name="meetings_meeting_tenant_key"),
            TenantForeignKey(field="organizer", name="meetings_meeting_organizer_same_company"),
            TenantForeignKey(field="channel", name="meetings_meeting_channel_same_company"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # ``is_private`` follows the channel the meeting is announced in, on
        # every ORM path (create, save, services, admin). Done here rather
        # than in a pre_save receiver because a receiver cannot add the column
        # to ``update_fields``. With no channel (never announced, or the
        # channel was deleted) it keeps its value: never widened by a delete.
        if self.channel_id is not None:
            try:
                self.is_private = self.channel.is_private
            except ObjectDoesNotExist:
                pass  # a missing channel: the FK constraint refuses the row
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "channel" in update_fields:
                kwargs["update_fields"] = {*update_fields, "is_private"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.company_id:
            ensure_same_company(
                self.company_id,
                organizer=self.organizer if self.organizer_id else None,
                channel=self.channel if self.channel_id else None,
            )


class MeetingParticipant(TenantOwned, models.Model):
    tenant_parent = "meeting"

    class Response(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        TENTATIVE = "tentative", "Tentative"

    # The meeting's company, derived when not given (workspace/db/tenant.py).
    company = models.ForeignKey(
        "companies.Company",
        on_delete=models.CASCADE,
        related_name="meeting_participations",
        blank=True,
        editable=False,
    )
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participations", db_constraint=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="meeting_participations",
        db_constraint=False,
    )
    response = models.CharField(max_length=16, choices=Response.choices, default=Response.PENDING)
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"],
                name="meetings_meetingparticipant_unique_user",
                violation_error_message="This user is already a participant.",
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(joined_at__isnull=True) | Q(left_at__gte=F("joined_at")),
                name="meetings_meetingparticipant_left_after_joined",
                violation_error_message="Leaving must not be before joining.",
            ),
            models.CheckConstraint(
                condition=Q(response__in=["pending", "accepted", "declined", "tentative"]),
                name="meetings_meetingparticipant_response_valid",
            ),
            TenantForeignKey(field="meeting", name="meetings_meetingparticipant_meeting_same_company"),
            TenantForeignKey(field="user", name="meetings_meetingparticipant_user_same_company"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.meeting_id} ({self.response})"

    def clean(self) -> None:
        super().clean()
        if self.meeting_id and self.user_id:
            ensure_same_company(self.meeting.company_id, user=self.user)
