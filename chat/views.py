"""API of the chat app: channels, members, messages, reactions.

Thin views: a serializer validates, a selector finds what the caller may see
(anything else is 404), a service writes. Rules in docs/api.md.
"""

import django_filters
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from chat import selectors, services
from chat.models import Channel, ChannelMembership, Message
from chat.rows import ChannelRows, channel_page_data, message_page_data, message_rows, visible_channel_messages
from chat.serializers import (
    ChannelCreateSerializer,
    ChannelReadSerializer,
    ChannelReadStateSerializer,
    ChannelSerializer,
    ChannelUpdateSerializer,
    MembershipCreateSerializer,
    MembershipSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    MessageUpdateSerializer,
    ReactionCreateSerializer,
    ReactionSerializer,
)
from companies.serializers import ImpactSerializer
from workspace.api.exceptions import Conflict, bad_request, conflict
from workspace.api.filters import IdFilter, UtcIsoDateTimeFilter
from workspace.api.pagination import NewestFirstCursorPagination, WindowCountPagination
from workspace.api.permissions import IsCompanyMember
from workspace.api.schema import responses, validation_error

CHANNEL_MANAGERS = "Only the channel's creator or a company admin may change or delete it."
_UNIQUE_NAME = next(c for c in Channel._meta.constraints if c.name == "chat_channel_unique_name_per_company")


def _channel_write_error(exc: DjangoValidationError):
    """A duplicate name is a 409 naming ``name``; anything else a 400."""
    messages = exc.message_dict.get(NON_FIELD_ERRORS, []) if hasattr(exc, "error_dict") else exc.messages
    if _UNIQUE_NAME.violation_error_message in messages:
        return Conflict({"name": [_UNIQUE_NAME.violation_error_message]})
    return bad_request(exc)


CHANNEL_NAME_CONFLICT = validation_error("ChannelNameConflict", "name")


def _may_manage(user, channel: Channel) -> bool:
    return user.is_company_admin or channel.created_by_id == user.pk


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
            selectors.channel_list_visible(user=self.request.user).filter(pk=self.kwargs[self.channel_url_kwarg]).first()
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
        try:
            channel = services.channel_create(
                company=request.user.company, created_by=request.user, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise _channel_write_error(exc) from exc
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
            forbidden=CHANNEL_MANAGERS,
            body=True,
        ),
    )
    def patch(self, request, pk):
        channel = self.get_channel()
        if not _may_manage(request.user, channel):
            raise PermissionDenied(CHANNEL_MANAGERS)
        serializer = ChannelUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            services.channel_update(channel=channel, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise _channel_write_error(exc) from exc
        return Response(ChannelSerializer(self.get_channel_with_read_state()).data)

    @extend_schema(
        operation_id="channels_destroy",
        summary="Delete a channel with its messages and memberships (creator or company admin)",
        responses=responses({204: None}, not_found=True, forbidden=CHANNEL_MANAGERS),
    )
    def delete(self, request, pk):
        channel = self.get_channel()
        if not _may_manage(request.user, channel):
            raise PermissionDenied(CHANNEL_MANAGERS)
        services.channel_delete(channel=channel, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelDeletePreviewView(ChannelScopedView):
    @extend_schema(
        operation_id="channels_delete_preview",
        summary="What deleting this channel would delete, per table (creator or company admin)",
        responses=responses({200: ImpactSerializer}, not_found=True, forbidden=CHANNEL_MANAGERS),
    )
    def get(self, request, pk):
        channel = self.get_channel()
        if not _may_manage(request.user, channel):
            raise PermissionDenied(CHANNEL_MANAGERS)
        return Response(selectors.channel_delete_preview(channel=channel).as_dict())


NOT_A_MEMBER = "Only members of the channel have a read state: join it first."


class ChannelReadView(ChannelScopedView):
    serializer_class = ChannelReadStateSerializer

    @extend_schema(
        operation_id="channels_read",
        summary="Mark the channel read (up to a message of it, or its newest message); never moves back",
        request=ChannelReadSerializer,
        responses=responses(
            {200: ChannelReadStateSerializer},
            bad_request=validation_error("ChannelReadError", "message"),
            not_found=True,
            forbidden=NOT_A_MEMBER,
            body=True,
        ),
    )
    def post(self, request, pk):
        channel = self.get_channel()
        if not selectors.is_channel_member(channel=channel, user=request.user):
            raise PermissionDenied(NOT_A_MEMBER)
        serializer = ChannelReadSerializer(
            data=request.data, context={**self.get_serializer_context(), "channel": channel}
        )
        serializer.is_valid(raise_exception=True)
        try:
            services.membership_mark_read(channel=channel, user=request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            # Left (or removed) meanwhile; a message of another channel is
            # refused by the serializer already.
            if "message" in exc.message_dict:
                raise bad_request(exc) from exc
            raise PermissionDenied(NOT_A_MEMBER) from None
        return Response(ChannelReadStateSerializer(self.get_channel_with_read_state()).data)


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
        responses=responses(
            {200: MembershipSerializer(many=True)}, not_found="No such channel, or page out of range."
        ),
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
            membership = services.membership_add(channel=channel, user=serializer.validated_data["user"])
        except DjangoValidationError as exc:
            raise conflict(exc) from exc
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
            forbidden="Only the member themselves, the channel's creator or a company admin may remove a member.",
        ),
    )
    def delete(self, request, pk, user_id):
        channel = self.get_channel()
        membership = channel.memberships.filter(user_id=user_id).first()
        if membership is None:
            raise NotFound("This person is not a member of the channel.")
        if user_id != request.user.pk and not _may_manage(request.user, channel):
            raise PermissionDenied(
                "Only the member themselves, the channel's creator or a company admin may remove a member."
            )
        try:
            services.membership_remove(channel=channel, user=membership.user)
        except DjangoValidationError:
            raise NotFound("This person is not a member of the channel.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageFilter(django_filters.FilterSet):
    parent = IdFilter(
        method="filter_parent",
        help_text="The replies in the thread of this message (without it: top-level messages only).",
    )
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", help_text="Posted at or after.")
    before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", help_text="Posted strictly before.")

    class Meta:
        model = Message
        fields = ["parent", "since", "before"]

    def filter_parent(self, queryset, name, value):
        return queryset.filter(parent_id=value)

    def filter_queryset(self, queryset):
        if self.form.cleaned_data.get("parent") is None:
            queryset = queryset.filter(parent__isnull=True)
        return super().filter_queryset(queryset)


class ChannelMessageListView(ChannelScopedView):
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Message.objects.none()
        # Rows, not instances, and the channel's visibility checked in the
        # page query (chat/rows.py): the same JSON as MessageSerializer, which
        # stays the schema (docs/PERFORMANCE.md, 4).
        return message_rows(visible_channel_messages(user=self.request.user, channel_id=self.kwargs["pk"]))

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
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
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
            forbidden="Only members of the channel may post in it.",
            body=True,
        ),
    )
    def post(self, request, pk):
        channel = self.get_channel()
        if not selectors.is_channel_member(channel=channel, user=request.user):
            raise PermissionDenied("Only members of the channel may post in it.")
        serializer = MessageCreateSerializer(
            data=request.data, context={**self.get_serializer_context(), "channel": channel}
        )
        serializer.is_valid(raise_exception=True)
        try:
            message = services.message_create(channel=channel, author=request.user, **serializer.validated_data)
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
            forbidden="Only the author may edit a message.",
            body=True,
        ),
    )
    def patch(self, request, pk):
        message = self.get_message()
        if message.author_id != request.user.pk:
            raise PermissionDenied("Only the author may edit a message.")
        serializer = MessageUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "body" in serializer.validated_data:
            services.message_update(message=message, body=serializer.validated_data["body"])
        return Response(MessageSerializer(self.get_message()).data)

    @extend_schema(
        operation_id="messages_destroy",
        summary="Delete a message and its thread (its author, or a company admin)",
        responses=responses(
            {204: None}, not_found=True, forbidden="Only the author or a company admin may delete a message."
        ),
    )
    def delete(self, request, pk):
        message = self.get_message()
        if message.author_id != request.user.pk and not request.user.is_company_admin:
            raise PermissionDenied("Only the author or a company admin may delete a message.")
        services.message_delete(message=message)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageReactionListView(MessageScopedView):
    serializer_class = ReactionSerializer

    @extend_schema(
        operation_id="messages_reactions_create",
        summary="React to a message with an emoji (once per emoji)",
        request=ReactionCreateSerializer,
        responses=responses(
            {201: ReactionSerializer},
            bad_request=validation_error("ReactionCreateError", "emoji"),
            conflict=validation_error("ReactionConflict", "emoji"),
            not_found=True,
            body=True,
        ),
    )
    def post(self, request, pk):
        message = self.get_message()
        serializer = ReactionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            reaction = services.reaction_add(message=message, user=request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise conflict(exc) from exc
        except IntegrityError:
            if not Message.objects.filter(pk=message.pk).exists():
                raise NotFound("No such message.") from None
            raise
        return Response(ReactionSerializer(reaction).data, status=status.HTTP_201_CREATED)


class MessageReactionDetailView(MessageScopedView):
    serializer_class = ReactionSerializer

    @extend_schema(
        operation_id="messages_reactions_destroy",
        summary="Take back your reaction with this emoji",
        parameters=[
            OpenApiParameter(
                "emoji", OpenApiTypes.STR, OpenApiParameter.PATH, description="The emoji, URL-encoded."
            )
        ],
        responses=responses({204: None}, not_found="No such message, or you did not react with this emoji."),
    )
    def delete(self, request, pk, emoji):
        message = self.get_message()
        if "\x00" in emoji or len(emoji) > 64:
            # Cannot be a stored emoji (and PostgreSQL refuses NUL in a query).
            raise NotFound("You have not reacted with this emoji.")
        try:
            services.reaction_remove(message=message, user=request.user, emoji=emoji)
        except DjangoValidationError:
            raise NotFound("You have not reacted with this emoji.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)
