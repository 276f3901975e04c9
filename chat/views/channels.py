"""Channels: list, create, one, change, delete."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from chat import selectors, services
from chat.models import Channel
from chat.rows import ChannelRows, channel_page_data
from chat.serializers import ChannelCreateSerializer, ChannelSerializer, ChannelUpdateSerializer
from companies.serializers import ImpactSerializer
from workspace.api.pagination import WindowCountPagination
from workspace.api.permissions import IsCompanyMember
from workspace.api.schema import responses, validation_error

CHANNEL_NAME_CONFLICT = validation_error("ChannelNameConflict", "name")


class ChannelScopedView(generics.GenericAPIView):
    # Base of the routes under /api/channels/{id}/: the channel must be
    # visible to the caller (same company; public, or a member), else 404.

    permission_classes = [IsCompanyMember]
    channel_url_kwarg = "pk"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Channel.objects.none()
        return selectors.channel_list_visible(user=self.request.user)

    def get_channel(self) -> Channel:
        channel = (
            selectors.channel_list_visible(user=self.request.user)
            .filter(pk=self.kwargs[self.channel_url_kwarg])
            .first()
        )
        if channel is None:
            raise NotFound("No such channel.")
        return channel

    def get_channel_with_read_state(self) -> Channel:
        """The channel with the caller's read state (ChannelSerializer)."""
        user = self.request.user
        channels = selectors.channel_list_visible(user=user).filter(pk=self.kwargs[self.channel_url_kwarg])
        channel = selectors.channel_read_state(channels=channels, user=user).first()
        if channel is None:
            raise NotFound("No such channel.")
        return channel


class ChannelListView(generics.GenericAPIView):
    permission_classes = [IsCompanyMember]
    serializer_class = ChannelSerializer
    filter_backends = []
    # the page and its total in one query (chat/rows.py)
    pagination_class = WindowCountPagination

    def get_queryset(self):
        user = self.request.user
        return selectors.channel_read_state(channels=selectors.channel_list_visible(user=user), user=user)

    @extend_schema(
        operation_id="channels_list",
        summary="Channels you can see: your company's public ones and the private ones you are in",
        responses=responses({200: ChannelSerializer(many=True)}, not_found="Page out of range."),
    )
    def get(self, request):
        # Rows, not instances (chat/rows.py): the same JSON as
        # ChannelSerializer, which stays the schema (docs/PERFORMANCE.md, 7).
        page = self.paginate_queryset(ChannelRows(request.user))
        return self.get_paginated_response(channel_page_data(page))

    @extend_schema(
        operation_id="channels_create",
        summary="Create a channel (you become its first member)",
        request=ChannelCreateSerializer,
        responses=responses(
            {201: ChannelSerializer},
            bad_request=validation_error("ChannelCreateError", "name", "topic", "is_private", lists=("members",)),
            conflict=CHANNEL_NAME_CONFLICT,
            body=True,
        ),
    )
    def post(self, request):
        serializer = ChannelCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        # A duplicate name: the service's error is coded ``unique`` (a 409).
        channel = services.channel_create(
            company=request.user.company, created_by=request.user, **serializer.validated_data
        )
        channel = self.get_queryset().get(pk=channel.pk)
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)


class ChannelDetailView(ChannelScopedView):
    serializer_class = ChannelSerializer

    @extend_schema(
        operation_id="channels_retrieve",
        summary="One channel",
        responses=responses({200: ChannelSerializer}, not_found=True),
    )
    def get(self, request, pk):
        return Response(ChannelSerializer(self.get_channel_with_read_state()).data)

    @extend_schema(
        operation_id="channels_partial_update",
        summary="Rename a channel, change its topic or privacy (creator or company admin)",
        request=ChannelUpdateSerializer,
        responses=responses(
            {200: ChannelSerializer},
            bad_request=validation_error("ChannelUpdateError", "name", "topic", "is_private"),
            conflict=CHANNEL_NAME_CONFLICT,
            not_found=True,
            forbidden=services.CHANNEL_MANAGERS,
            body=True,
        ),
    )
    def patch(self, request, pk):
        channel = self.get_channel()
        # The service's rule, asked before the body is validated: who may not
        # change the channel learns that first.
        services.channel_authorize_manage(channel=channel, actor=request.user)
        serializer = ChannelUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.channel_update(channel=channel, actor=request.user, **serializer.validated_data)
        return Response(ChannelSerializer(self.get_channel_with_read_state()).data)

    @extend_schema(
        operation_id="channels_destroy",
        summary="Delete a channel with its messages and memberships (creator or company admin)",
        responses=responses({204: None}, not_found=True, forbidden=services.CHANNEL_MANAGERS),
    )
    def delete(self, request, pk):
        services.channel_delete(channel=self.get_channel(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelDeletePreviewView(ChannelScopedView):
    @extend_schema(
        operation_id="channels_delete_preview",
        summary="What deleting this channel would delete, per table (creator or company admin)",
        responses=responses({200: ImpactSerializer}, not_found=True, forbidden=services.CHANNEL_MANAGERS),
    )
    def get(self, request, pk):
        channel = self.get_channel()
        services.channel_authorize_manage(channel=channel, actor=request.user)
        return Response(selectors.channel_delete_preview(channel=channel).as_dict())
