"""Reactions to a message: add, take back."""

from django.db import IntegrityError
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from chat import services
from chat.models import Message
from chat.serializers import ReactionCreateSerializer, ReactionSerializer
from chat.views.messages import MessageScopedView
from workspace.api.schema import responses, validation_error


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
            # A second reaction with the same emoji: coded ``unique`` (a 409).
            reaction = services.reaction_add(message=message, user=request.user, **serializer.validated_data)
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
            OpenApiParameter("emoji", OpenApiTypes.STR, OpenApiParameter.PATH, description="The emoji, URL-encoded.")
        ],
        responses=responses({204: None}, not_found="No such message, or you did not react with this emoji."),
    )
    def delete(self, request, pk, emoji):
        message = self.get_message()
        if "\x00" in emoji or len(emoji) > 64:
            # Cannot be a stored emoji (and PostgreSQL refuses NUL in a query).
            raise NotFound(services.NOT_REACTED)
        # Not reacted with it: the service's error is coded ``not_found`` (404).
        services.reaction_remove(message=message, user=request.user, emoji=emoji)
        return Response(status=status.HTTP_204_NO_CONTENT)
