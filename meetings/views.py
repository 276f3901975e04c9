"""API of the meetings app: meetings, RSVP, join and leave."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from meetings import selectors, services
from meetings.models import Meeting
from meetings.rows import meeting_page_data, meeting_rows
from meetings.serializers import (
    MeetingCreateSerializer,
    MeetingSerializer,
    MeetingUpdateSerializer,
    ParticipantSerializer,
    RsvpSerializer,
)
from workspace.api.exceptions import conflict
from workspace.api.filters import UtcIsoDateTimeFilter
from workspace.api.pagination import WindowCountPagination
from workspace.api.permissions import IsCompanyMember
from workspace.api.schema import responses, validation_error

ORGANIZER_ONLY = "Only the organizer may change or delete a meeting."
PARTICIPANTS_ONLY = "Only participants may RSVP, join or leave."
MEETING_INPUT_FIELDS = ("title", "description", "starts_at", "ends_at", "channel")


class MeetingFilter(django_filters.FilterSet):
    since = UtcIsoDateTimeFilter(
        field_name="ends_at", lookup_expr="gt", help_text="Meetings still running or to come at this time."
    )
    before = UtcIsoDateTimeFilter(
        field_name="starts_at", lookup_expr="lt", help_text="Meetings that start before this time."
    )

    class Meta:
        model = Meeting
        fields = ["since", "before"]


class MeetingScopedView(generics.GenericAPIView):
    permission_classes = [IsCompanyMember]
    serializer_class = MeetingSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Meeting.objects.none()
        return selectors.meeting_list_visible(user=self.request.user)

    def get_meeting(self) -> Meeting:
        meeting = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if meeting is None:
            raise NotFound("No such meeting.")
        return meeting


class MeetingListView(MeetingScopedView):
    filterset_class = MeetingFilter
    # the page and its total in one query (meetings/rows.py)
    pagination_class = WindowCountPagination

    @extend_schema(
        operation_id="meetings_list",
        summary="Meetings you can see, by start time; `since`/`before` select those overlapping a range",
        responses=responses(
            {200: MeetingSerializer(many=True)},
            bad_request=validation_error("MeetingListError", "since", "before"),
            not_found="Page out of range.",
        ),
    )
    def get(self, request):
        # Rows, not instances (meetings/rows.py): the same JSON as
        # MeetingSerializer, which stays the schema (docs/PERFORMANCE.md, 6).
        page = self.paginate_queryset(self.filter_queryset(meeting_rows(self.get_queryset())))
        return self.get_paginated_response(meeting_page_data(page))

    @extend_schema(
        operation_id="meetings_create",
        summary="Organize a meeting (you take part, with `accepted`; participants start `pending`)",
        request=MeetingCreateSerializer,
        responses=responses(
            {201: MeetingSerializer},
            bad_request=validation_error("MeetingCreateError", *MEETING_INPUT_FIELDS, lists=("participants",)),
            body=True,
        ),
    )
    def post(self, request):
        serializer = MeetingCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        meeting = services.meeting_create(organizer=request.user, **serializer.validated_data)
        return Response(MeetingSerializer(self.get_queryset().get(pk=meeting.pk)).data, status=status.HTTP_201_CREATED)


class MeetingDetailView(MeetingScopedView):
    @extend_schema(
        operation_id="meetings_retrieve",
        summary="One meeting, with its participants",
        responses=responses({200: MeetingSerializer}, not_found=True),
    )
    def get(self, request, pk):
        return Response(MeetingSerializer(self.get_meeting()).data)

    @extend_schema(
        operation_id="meetings_partial_update",
        summary="Change a meeting (its organizer only)",
        request=MeetingUpdateSerializer,
        responses=responses(
            {200: MeetingSerializer},
            bad_request=validation_error("MeetingUpdateError", *MEETING_INPUT_FIELDS),
            not_found=True,
            forbidden=ORGANIZER_ONLY,
            body=True,
        ),
    )
    def patch(self, request, pk):
        meeting = self.get_meeting()
        if meeting.organizer_id != request.user.pk:
            raise PermissionDenied(ORGANIZER_ONLY)
        serializer = MeetingUpdateSerializer(
            data=request.data, partial=True, context={**self.get_serializer_context(), "meeting": meeting}
        )
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:
            services.meeting_update(meeting=meeting, **serializer.validated_data)
        return Response(MeetingSerializer(self.get_meeting()).data)

    @extend_schema(
        operation_id="meetings_destroy",
        summary="Cancel a meeting (its organizer only)",
        responses=responses({204: None}, not_found=True, forbidden=ORGANIZER_ONLY),
    )
    def delete(self, request, pk):
        meeting = self.get_meeting()
        if meeting.organizer_id != request.user.pk:
            raise PermissionDenied(ORGANIZER_ONLY)
        services.meeting_delete(meeting=meeting)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ParticipationView(MeetingScopedView):
    # Base of rsvp/join/leave: the caller must take part in the meeting.

    def check_participant(self) -> Meeting:
        meeting = self.get_meeting()
        if selectors.participation(meeting=meeting, user=self.request.user) is None:
            raise PermissionDenied(PARTICIPANTS_ONLY)
        return meeting


class MeetingRsvpView(ParticipationView):
    @extend_schema(
        operation_id="meetings_rsvp",
        summary="Answer an invitation: accepted, declined or tentative",
        request=RsvpSerializer,
        responses=responses(
            {200: ParticipantSerializer},
            bad_request=validation_error("RsvpError", "response"),
            conflict=validation_error("RsvpConflict", "user"),
            not_found=True,
            forbidden=PARTICIPANTS_ONLY,
            body=True,
        ),
    )
    def post(self, request, pk):
        meeting = self.check_participant()
        serializer = RsvpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            participation = services.participant_rsvp(
                meeting=meeting, user=request.user, response=serializer.validated_data["response"]
            )
        except DjangoValidationError as exc:
            raise conflict(exc) from exc
        return Response(ParticipantSerializer(participation).data)


class MeetingJoinView(ParticipationView):
    @extend_schema(
        operation_id="meetings_join",
        summary="Join the meeting now (joining again after leaving starts a new stay)",
        request=None,
        responses=responses(
            {200: ParticipantSerializer},
            conflict=validation_error("JoinConflict", "user"),
            not_found=True,
            forbidden=PARTICIPANTS_ONLY,
        ),
    )
    def post(self, request, pk):
        meeting = self.check_participant()
        try:
            participation = services.participant_join(meeting=meeting, user=request.user)
        except DjangoValidationError as exc:
            raise conflict(exc) from exc
        return Response(ParticipantSerializer(participation).data)


class MeetingLeaveView(ParticipationView):
    @extend_schema(
        operation_id="meetings_leave",
        summary="Leave the meeting now (after joining it)",
        request=None,
        responses=responses(
            {200: ParticipantSerializer},
            conflict=validation_error("LeaveConflict", "user", "left_at"),
            not_found=True,
            forbidden=PARTICIPANTS_ONLY,
        ),
    )
    def post(self, request, pk):
        meeting = self.check_participant()
        try:
            participation = services.participant_leave(meeting=meeting, user=request.user)
        except DjangoValidationError as exc:
            raise conflict(exc) from exc
        return Response(ParticipantSerializer(participation).data)
