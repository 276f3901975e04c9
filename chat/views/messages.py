"""Messages: a channel's (list, post), one message (read, edit, delete)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from chat import selectors, services
from chat.filters import MessageFilter
from chat.models import Channel, Message
from chat.rows import message_page_data, message_page_source
from chat.serializers import MessageCreateSerializer, MessageSerializer, MessageUpdateSerializer
from chat.views.channels import ChannelScopedView
from workspace.api.exceptions import bad_request
from workspace.api.filters import validated_filters
from workspace.api.pagination import NewestFirstCursorPagination
from workspace.api.permissions import IsCompanyMember
from workspace.api.schema import responses, validation_error


class ChannelMessageListView(ChannelScopedView):
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        # The list reads through chat.rows (a compiled page query with the
        # channel's visibility in it, docs/PERFORMANCE.md, 4); this queryset
        # only names the model for the schema and the browsable API's filter form.
        return Message.objects.none()

    @extend_schema(
        operation_id="channels_messages_list",
        summary="Messages of a channel, newest first (top-level, or one thread with ?parent=)",
        responses=responses(
            {200: MessageSerializer(many=True)},
            bad_request=validation_error("MessageListError", "parent", "since", "before"),
            not_found="No such channel, or an invalid cursor.",
        ),
    )
    def get(self, request, pk):
        # The filters validated as DjangoFilterBackend would (400 with field
        # errors); the page query compiled once per process and shape, with
        # the channel's visibility in it (chat/rows.py).
        filters = validated_filters(MessageFilter, request)
        source = message_page_source(user=request.user, channel_id=pk, filters=filters)
        page = self.paginate_queryset(source)
        if not page:
            self.get_channel()  # a hidden or missing channel is a 404, not an empty page
        return self.get_paginated_response(message_page_data(page))

    @extend_schema(
        operation_id="channels_messages_create",
        summary="Post a message (members only); with `parent`, a reply in that thread",
        request=MessageCreateSerializer,
        responses=responses(
            {201: MessageSerializer},
            bad_request=validation_error("MessageCreateError", "body", "parent"),
            not_found="No such channel (or it was deleted meanwhile).",
            forbidden=services.POSTERS,
            body=True,
        ),
    )
    def post(self, request, pk):
        channel = self.get_channel()
        services.message_authorize_post(channel=channel, author=request.user, actor=request.user)
        serializer = MessageCreateSerializer(
            data=request.data, context={**self.get_serializer_context(), "channel": channel}
        )
        serializer.is_valid(raise_exception=True)
        try:
            message = services.message_create(
                channel=channel, author=request.user, actor=request.user, **serializer.validated_data
            )
        except IntegrityError:
            # The channel (or the parent) was deleted between our read and our
            # commit: the database refused the row, nothing is left behind.
            if not Channel.objects.filter(pk=channel.pk).exists():
                raise NotFound("No such channel.") from None
            parent = serializer.validated_data.get("parent")
            if parent is not None and not Message.objects.filter(pk=parent.pk).exists():
                raise bad_request(DjangoValidationError({"parent": f"No message with id {parent.pk}."})) from None
            raise
        message = selectors.message_list_visible(user=request.user).get(pk=message.pk)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class MessageScopedView(generics.GenericAPIView):
    # Base of the routes under /api/messages/{id}/: the message must be in a
    # channel visible to the caller, else 404.

    permission_classes = [IsCompanyMember]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Message.objects.none()
        return selectors.message_list_visible(user=self.request.user)

    def get_message(self) -> Message:
        message = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if message is None:
            raise NotFound("No such message.")
        return message


class MessageDetailView(MessageScopedView):
    serializer_class = MessageSerializer

    @extend_schema(
        operation_id="messages_retrieve",
        summary="One message",
        responses=responses({200: MessageSerializer}, not_found=True),
    )
    def get(self, request, pk):
        return Response(MessageSerializer(self.get_message()).data)

    @extend_schema(
        operation_id="messages_partial_update",
        summary="Edit a message's body (its author only)",
        request=MessageUpdateSerializer,
        responses=responses(
            {200: MessageSerializer},
            bad_request=validation_error("MessageUpdateError", "body"),
            not_found=True,
            forbidden=services.MESSAGE_EDITORS,
            body=True,
        ),
    )
    def patch(self, request, pk):
        message = self.get_message()
        # The service's rule, asked before the body is validated.
        services.message_authorize_edit(message=message, actor=request.user)
        serializer = MessageUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "body" in serializer.validated_data:
            services.message_update(message=message, body=serializer.validated_data["body"], actor=request.user)
        return Response(MessageSerializer(self.get_message()).data)

    @extend_schema(
        operation_id="messages_destroy",
        summary="Delete a message and its thread (its author, or a company admin)",
        responses=responses({204: None}, not_found=True, forbidden=services.MESSAGE_DELETERS),
    )
    def delete(self, request, pk):
        services.message_delete(message=self.get_message(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
