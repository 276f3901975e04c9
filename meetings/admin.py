from django.contrib import admin

from meetings.models import Meeting, MeetingParticipant


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["title", "company", "organizer", "starts_at", "ends_at"]
    list_filter = ["company"]


@admin.register(MeetingParticipant)
class MeetingParticipantAdmin(admin.ModelAdmin):
    list_display = ["meeting", "user", "response", "joined_at", "left_at"]
    list_filter = ["response"]
