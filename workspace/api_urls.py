"""Routes of the REST API, included under ``api/`` (docs/api.md)."""

from django.http import JsonResponse
from django.urls import path, re_path, register_converter
from django.views.decorators.csrf import csrf_exempt

from chat import views as chat
from companies import views as companies
from meetings import views as meetings
from workspace.api.auth import TokenRevokeAllView, TokenView
from workspace.api.converters import IdConverter
from workspace.api.docs_views import SchemaView, SwaggerView

register_converter(IdConverter, "id")


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other path under /api/: the API's JSON 404, also in DEBUG (where
    Django would answer with an HTML page)."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/tokens/", TokenRevokeAllView.as_view(), name="api-tokens"),
    path("me/", companies.MeView.as_view(), name="api-me"),
    path("company/deactivate/", companies.CompanyDeactivateView.as_view(), name="api-company-deactivate"),
    path("company-purges/", companies.CompanyPurgeListView.as_view(), name="api-company-purge-list"),
    path("company-purges/<id:pk>/", companies.CompanyPurgeDetailView.as_view(), name="api-company-purge-detail"),
    path("users/", companies.UserListView.as_view(), name="api-user-list"),
    path("users/<id:pk>/", companies.UserDetailView.as_view(), name="api-user-detail"),
    path("users/<id:pk>/erase-preview/", companies.UserErasePreviewView.as_view(), name="api-user-erase-preview"),
    path("company/", companies.CompanySettingsView.as_view(), name="api-company"),
    path("company/retention-preview/", companies.RetentionPreviewView.as_view(), name="api-company-retention-preview"),
    path("company/purge-preview/", companies.CompanyPurgePreviewView.as_view(), name="api-company-purge-preview"),
    path("company/deletion-receipts/", companies.DeletionReceiptListView.as_view(), name="api-company-receipts"),
    path("channels/", chat.ChannelListView.as_view(), name="api-channel-list"),
    path("channels/<id:pk>/", chat.ChannelDetailView.as_view(), name="api-channel-detail"),
    path("channels/<id:pk>/read/", chat.ChannelReadView.as_view(), name="api-channel-read"),
    path(
        "channels/<id:pk>/delete-preview/", chat.ChannelDeletePreviewView.as_view(), name="api-channel-delete-preview"
    ),
    path("channels/<id:pk>/members/", chat.ChannelMemberListView.as_view(), name="api-channel-members"),
    path(
        "channels/<id:pk>/members/<id:user_id>/",
        chat.ChannelMemberDetailView.as_view(),
        name="api-channel-member-detail",
    ),
    path("channels/<id:pk>/messages/", chat.ChannelMessageListView.as_view(), name="api-channel-messages"),
    path("messages/<id:pk>/", chat.MessageDetailView.as_view(), name="api-message-detail"),
    path("messages/<id:pk>/reactions/", chat.MessageReactionListView.as_view(), name="api-message-reactions"),
    path(
        "messages/<id:pk>/reactions/<str:emoji>/",
        chat.MessageReactionDetailView.as_view(),
        name="api-message-reaction-detail",
    ),
    path("meetings/", meetings.MeetingListView.as_view(), name="api-meeting-list"),
    path("meetings/<id:pk>/", meetings.MeetingDetailView.as_view(), name="api-meeting-detail"),
    path(
        "meetings/<id:pk>/participants/",
        meetings.MeetingParticipantListView.as_view(),
        name="api-meeting-participants",
    ),
    path(
        "meetings/<id:pk>/participants/<id:user_id>/",
        meetings.MeetingParticipantDetailView.as_view(),
        name="api-meeting-participant-detail",
    ),
    path("meetings/<id:pk>/rsvp/", meetings.MeetingRsvpView.as_view(), name="api-meeting-rsvp"),
    path("meetings/<id:pk>/join/", meetings.MeetingJoinView.as_view(), name="api-meeting-join"),
    path("meetings/<id:pk>/leave/", meetings.MeetingLeaveView.as_view(), name="api-meeting-leave"),
    path("attendance/", companies.AttendanceListView.as_view(), name="api-attendance-list"),
    path("attendance/check-in/", companies.AttendanceCheckInView.as_view(), name="api-attendance-check-in"),
    path("attendance/check-out/", companies.AttendanceCheckOutView.as_view(), name="api-attendance-check-out"),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^[\s\S]*$", not_found),
]
