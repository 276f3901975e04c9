"""Admin for inspecting meetings and their participants; every write goes
through meetings.services with the admin user as ``actor`` (the organizer's
rules hold here too; a refusal is a form error: workspace/adminkit.py)."""

from django.contrib import admin, messages
from django.db import transaction

from meetings import services
from meetings.models import Meeting, MeetingParticipant
from workspace.adminkit import (
    SERVICE_ERRORS,
    ChangeViewInlinesMixin,
    FixedOnChangeMixin,
    TenantScopedAdmin,
    TenantScopedInline,
    adopt,
    count_of,
    service_error_messages,
)

#: What the admin edits of a participation (``participant_update``).
PARTICIPATION_FIELDS = ("response", "joined_at", "left_at")


class ParticipantInline(TenantScopedInline, admin.TabularInline):
    model = MeetingParticipant
    extra = 0
    fields = ["user", "response", "joined_at", "left_at"]
    autocomplete_fields = ["user"]


def _save_participation(meeting, participation, changed, *, actor) -> MeetingParticipant:
    """A new or changed participation through the services: the invitation
    (``participant_add``), then what the form set beyond it
    (``participant_update``). Changing the person of an existing
    participation is refused (remove it and add another)."""
    if participation.pk is None:
        created = services.participant_add(meeting=meeting, user=participation.user, actor=actor)
        changes = {
            name: getattr(participation, name)
            for name in PARTICIPATION_FIELDS
            if getattr(participation, name) != getattr(created, name)
        }
        return services.participant_update(participation=created, actor=actor, **changes)
    changes = {name: getattr(participation, name) for name in changed if name in (*PARTICIPATION_FIELDS, "user")}
    return services.participant_update(participation=participation, actor=actor, **changes)


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
            services.meeting_update(meeting=obj, actor=request.user, **fields)

    def save_formset(self, request, form, formset, change):
        if formset.model is not MeetingParticipant:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for participation in formset.deleted_objects:
            services.participant_remove(meeting=form.instance, user=participation.user, actor=request.user)
        changed = {id(f.instance): f.changed_data for f in formset.forms}
        for participation in instances:
            _save_participation(form.instance, participation, changed.get(id(participation), []), actor=request.user)

    def delete_model(self, request, obj):
        services.meeting_delete(meeting=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for meeting in list(queryset):
                services.meeting_delete(meeting=meeting, actor=request.user)


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
        saved = _save_participation(obj.meeting, obj, form.changed_data, actor=request.user)
        if not change:
            adopt(obj, saved)

    def delete_model(self, request, obj):
        services.participant_remove(meeting=obj.meeting, user=obj.user, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for participation in list(queryset.select_related("meeting", "user")):
                services.participant_remove(meeting=participation.meeting, user=participation.user, actor=request.user)

    def _rsvp(self, request, queryset, response):
        """An answer on the participants' behalf: the organizer's or their
        own (``participant_update``'s rule), one by one."""
        done, failed = 0, []
        for participation in queryset.select_related("meeting", "user"):
            try:
                with transaction.atomic():
                    services.participant_update(participation=participation, actor=request.user, response=response)
                done += 1
            except SERVICE_ERRORS as error:
                failed.append(f"{participation}: {' '.join(service_error_messages(error))}")
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
