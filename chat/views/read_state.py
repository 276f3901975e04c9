"""Read state: mark a channel read."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from chat import services
from chat.serializers import ChannelReadSerializer, ChannelReadStateSerializer
from chat.views.channels import ChannelScopedView
from workspace.api.schema import responses, validation_error


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
            forbidden=services.NOT_A_MEMBER,
            body=True,
        ),
    )
    def post(self, request, pk):
        channel = self.get_channel()
        services.channel_authorize_member(channel=channel, actor=request.user, message=services.NOT_A_MEMBER)
        serializer = ChannelReadSerializer(
            data=request.data, context={**self.get_serializer_context(), "channel": channel}
        )
        serializer.is_valid(raise_exception=True)
        # Left (or removed) meanwhile: the service's ``Forbidden`` (403); a
        # message of another channel is refused by the serializer already.
        services.membership_mark_read(channel=channel, user=request.user, **serializer.validated_data)
        return Response(ChannelReadStateSerializer(self.get_channel_with_read_state()).data)
