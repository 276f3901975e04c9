"""Admin for inspecting meetings and their participants; writes go through
meetings.services."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction

from meetings import services
from meetings.models import Meeting, MeetingParticipant
from workspace.adminkit import (
    ChangeViewInlinesMixin,
    FixedOnChangeMixin,
    TenantScopedAdmin,
    TenantScopedInline,
    adopt,
    count_of,
)


class ParticipantInline(TenantScopedInline, admin.TabularInline):
    model = MeetingParticipant
    extra = 0
    fields = ["user", "response", "joined_at", "left_at"]
    autocomplete_fields = ["user"]


def _save_participation(meeting, participation, changed):
    """A new or changed participation through the services."""
    if participation.pk is None:
        created = services.participant_add(meeting=meeting, user=participation.user)
        if participation.response != created.response:
            services.participant_rsvp(meeting=meeting, user=participation.user, response=participation.response)
        if participation.joined_at or participation.left_at:
            MeetingParticipant.objects.filter(pk=created.pk).update(
                joined_at=participation.joined_at, left_at=participation.left_at
            )
        return
    if "response" in changed:
        services.participant_rsvp(meeting=meeting, user=participation.user, response=participation.response)
    # Other fields are saved as edited (the form ran the model's clean():
    # tenant check and constraints).
    others = [name for name in ("user", "joined_at", "left_at") if name in changed]
    if others:
        participation.save(update_fields=others)


@admin.register(Meeting)
class MeetingAdmin(TenantScopedAdmin, ChangeViewInlinesMixin, FixedOnChangeMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "company",
        "organizer",
        "channel",
        "starts_at",
        "ends_at",
        "participants_count",
        "created_at",
    ]
    list_filter = [
        "company",
        ("starts_at", admin.DateFieldListFilter),
        ("channel", admin.EmptyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["title", "description", "organizer__username", "company__name"]
    list_select_related = ["company", "organizer", "channel"]
    autocomplete_fields = ["company", "organizer", "channel"]
    date_hierarchy = "starts_at"
    fixed_on_change = ("company", "organizer", "created_at")
    inlines = [ParticipantInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_participants=count_of(MeetingParticipant, "meeting"))

    @admin.display(description="participants", ordering="_participants")
    def participants_count(self, obj):
        return obj._participants

    def save_model(self, request, obj, form, change):
        if not change:
            adopt(
                obj,
                services.meeting_create(
                    organizer=obj.organizer,
                    title=obj.title,
                    description=obj.description,
                    starts_at=obj.starts_at,
                    ends_at=obj.ends_at,
                    channel=obj.channel,
                ),
            )
            return
        allowed = ("title", "description", "starts_at", "ends_at", "channel")
        fields = {name: getattr(obj, name) for name in allowed if name in form.changed_data}
        if fields:
            services.meeting_update(meeting=obj, **fields)

    def save_formset(self, request, form, formset, change):
        if formset.model is not MeetingParticipant:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for participation in formset.deleted_objects:
            participation.delete()
        changed = {id(f.instance): f.changed_data for f in formset.forms}
        for participation in instances:
            _save_participation(form.instance, participation, changed.get(id(participation), []))

    def delete_model(self, request, obj):
        services.meeting_delete(meeting=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for meeting in list(queryset):
                services.meeting_delete(meeting=meeting)


@admin.register(MeetingParticipant)
class MeetingParticipantAdmin(TenantScopedAdmin, FixedOnChangeMixin, admin.ModelAdmin):
    list_display = ["user", "meeting", "company", "response", "joined_at", "left_at"]
    list_filter = [
        "response",
        "meeting__company",
        ("meeting__starts_at", admin.DateFieldListFilter),
        ("joined_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["user__username", "user__first_name", "user__last_name", "meeting__title"]
    list_select_related = ["user", "meeting", "company"]
    autocomplete_fields = ["meeting", "user"]
    fixed_on_change = ("meeting", "user")
    actions = ["mark_accepted", "mark_declined", "mark_tentative"]


    def save_model(self, request, obj, form, change):
        if change:
            _save_participation(obj.meeting, obj, form.changed_data)
        else:
            _save_participation(obj.meeting, obj, form.changed_data)
            adopt(obj, MeetingParticipant.objects.get(meeting=obj.meeting, user=obj.user))

    def _rsvp(self, request, queryset, response):
        done, failed = 0, []
        for participation in queryset.select_related("meeting", "user"):
            try:
                services.participant_rsvp(meeting=participation.meeting, user=participation.user, response=response)
                done += 1
            except ValidationError as error:
                failed.append(" ".join(error.messages))
        self.message_user(request, f"{done} participation(s) marked {response}.", messages.SUCCESS)
        for line in failed:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description="Mark the selected participations accepted")
    def mark_accepted(self, request, queryset):
        self._rsvp(request, queryset, MeetingParticipant.Response.ACCEPTED)

    @admin.action(description="Mark the selected participations declined")
    def mark_declined(self, request, queryset):
        self._rsvp(request, queryset, MeetingParticipant.Response.DECLINED)

    @admin.action(description="Mark the selected participations tentative")
    def mark_tentative(self, request, queryset):
        self._rsvp(request, queryset, MeetingParticipant.Response.TENTATIVE)
