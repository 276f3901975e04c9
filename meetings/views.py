"""API of the meetings app: meetings, participants, RSVP, join and leave.

Thin views: a serializer validates, a selector finds what the caller may see
(anything else is 404), a service checks the caller's permission (``actor``)
and writes; its errors become statuses in workspace/api/exceptions.py.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from meetings import selectors, services
from meetings.models import Meeting
from meetings.filters import MeetingFilter
from meetings.rows import meeting_page_data, meeting_page_source
from meetings.serializers import (
    MeetingCreateSerializer,
    MeetingSerializer,
    MeetingUpdateSerializer,
    ParticipantCreateSerializer,
    ParticipantSerializer,
    RsvpSerializer,
)
from meetings.services import ORGANIZER_ONLY, ORGANIZER_ONLY_PARTICIPANTS, PARTICIPANTS_ONLY
from workspace.api.filters import validated_filters
from workspace.api.pagination import WindowCountPagination
from workspace.api.permissions import IsCompanyMember
from workspace.api.schema import responses, validation_error

MEETING_INPUT_FIELDS = ("title", "description", "starts_at", "ends_at", "channel")


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
        # Rows, not instances, from a query compiled once per process and
        # shape (meetings/rows.py): the same JSON as MeetingSerializer, which
        # stays the schema (docs/PERFORMANCE.md, 6).
        filters = validated_filters(MeetingFilter, request)
        page = self.paginate_queryset(meeting_page_source(user=request.user, filters=filters))
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
        # The service's rule, asked before the body is validated: who may not
        # change the meeting learns that first.
        services.meeting_authorize_edit(meeting=meeting, actor=request.user)
        serializer = MeetingUpdateSerializer(
            data=request.data, partial=True, context={**self.get_serializer_context(), "meeting": meeting}
        )
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:
            services.meeting_update(meeting=meeting, actor=request.user, **serializer.validated_data)
        return Response(MeetingSerializer(self.get_meeting()).data)

    @extend_schema(
        operation_id="meetings_destroy",
        summary="Cancel a meeting (its organizer only)",
        responses=responses({204: None}, not_found=True, forbidden=ORGANIZER_ONLY),
    )
    def delete(self, request, pk):
        services.meeting_delete(meeting=self.get_meeting(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeetingParticipantListView(MeetingScopedView):
    serializer_class = ParticipantSerializer

    @extend_schema(
        operation_id="meetings_participants_create",
        summary="Invite a person of your company to a meeting (its organizer only); they start `pending`",
        request=ParticipantCreateSerializer,
        responses=responses(
            {201: ParticipantSerializer},
            bad_request=validation_error("ParticipantCreateError", "user"),
            conflict=validation_error("ParticipantConflict", "user"),
            not_found=True,
            forbidden=ORGANIZER_ONLY_PARTICIPANTS,
            body=True,
        ),
    )
    def post(self, request, pk):
        meeting = self.get_meeting()
        services.participant_authorize_manage(meeting=meeting, actor=request.user)
        serializer = ParticipantCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        participation = services.participant_add(
            meeting=meeting, user=serializer.validated_data["user"], actor=request.user
        )
        return Response(ParticipantSerializer(participation).data, status=status.HTTP_201_CREATED)


class MeetingParticipantDetailView(MeetingScopedView):
    serializer_class = ParticipantSerializer

    @extend_schema(
        operation_id="meetings_participants_destroy",
        summary="Take a person off a meeting (its organizer only; the organizer always takes part)",
        responses=responses(
            {204: None},
            conflict=validation_error("ParticipantRemoveConflict", "user"),
            not_found="No such meeting, or that person does not take part in it.",
            forbidden=ORGANIZER_ONLY_PARTICIPANTS,
        ),
    )
    def delete(self, request, pk, user_id):
        meeting = self.get_meeting()
        services.participant_authorize_manage(meeting=meeting, actor=request.user)
        participation = selectors.participation_of(meeting=meeting, user_id=user_id)
        if participation is None:
            raise NotFound("This person does not take part in the meeting.")
        services.participant_remove(meeting=meeting, user=participation.user, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ParticipationView(MeetingScopedView):
    # Base of rsvp/join/leave: the caller must take part in the meeting.

    def check_participant(self) -> Meeting:
        meeting = self.get_meeting()
        services.participant_authorize_self(meeting=meeting, actor=self.request.user)
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
        participation = services.participant_rsvp(
            meeting=meeting, user=request.user, response=serializer.validated_data["response"]
        )
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
        participation = services.participant_join(meeting=meeting, user=request.user)
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
        participation = services.participant_leave(meeting=meeting, user=request.user)
        return Response(ParticipantSerializer(participation).data)
