"""Members of a channel: list, add (join), remove (leave)."""

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from chat import selectors, services
from chat.models import Channel, ChannelMembership
from chat.serializers import MembershipCreateSerializer, MembershipSerializer
from chat.views.channels import ChannelScopedView
from workspace.api.schema import responses, validation_error

NOT_A_MEMBER = "This person is not a member of the channel."


class ChannelMemberListView(ChannelScopedView):
    serializer_class = MembershipSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ChannelMembership.objects.none()
        return selectors.channel_members(channel=self.get_channel())

    @extend_schema(
        operation_id="channels_members_list",
        summary="Members of a channel",
        responses=responses({200: MembershipSerializer(many=True)}, not_found="No such channel, or page out of range."),
    )
    def get(self, request, pk):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MembershipSerializer(page, many=True).data)

    @extend_schema(
        operation_id="channels_members_create",
        summary="Add a person of your company to a channel you can see (yourself: join it)",
        request=MembershipCreateSerializer,
        responses=responses(
            {201: MembershipSerializer},
            bad_request=validation_error("MembershipCreateError", "user"),
            conflict=validation_error("MembershipConflict", "user"),
            not_found=True,
            body=True,
        ),
    )
    def post(self, request, pk):
        channel = self.get_channel()
        serializer = MembershipCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        try:
            membership = services.membership_add(
                channel=channel, user=serializer.validated_data["user"], actor=request.user
            )
        except IntegrityError:
            if not Channel.objects.filter(pk=channel.pk).exists():
                raise NotFound("No such channel.") from None
            raise
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class ChannelMemberDetailView(ChannelScopedView):
    serializer_class = MembershipSerializer

    @extend_schema(
        operation_id="channels_members_destroy",
        summary="Remove a member (yourself: leave; anyone: the channel's creator or a company admin)",
        responses=responses(
            {204: None},
            not_found="No such channel, or that person is not a member.",
            forbidden=services.MEMBER_REMOVERS,
        ),
    )
    def delete(self, request, pk, user_id):
        channel = self.get_channel()
        membership = channel.memberships.filter(user_id=user_id).first()
        if membership is None:
            raise NotFound(NOT_A_MEMBER)
        # Gone meanwhile: the service's error is coded ``not_found`` (a 404).
        services.membership_remove(channel=channel, user=membership.user, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
