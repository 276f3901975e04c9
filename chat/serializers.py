from drf_spectacular.utils import OpenApiTypes, extend_schema_field
from rest_framework import serializers

from chat import selectors
from chat.models import Channel, ChannelMembership, Message, MessageReaction
from companies.models import User
from companies.serializers import company_users
from workspace.api.fields import IdField, NotBlankCharField, OptionalCharField, StrictBooleanField


class ReadStateFields(serializers.Serializer):
    # The caller's read state of a channel, from selectors.channel_read_state
    # (docs/api.md, "Read state").
    last_read_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Up to when you have read the channel; null when you are not a member or never marked it read.",
    )
    unread_count = serializers.IntegerField(
        read_only=True,
        min_value=0,
        help_text="Messages (thread replies included) posted by others after you last read the channel, "
        "or since you joined it if you never did; 0 when you are not a member.",
    )
    has_unread = serializers.SerializerMethodField(help_text="Whether `unread_count` is above 0.")

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_unread(self, obj) -> bool:
        return obj.unread_count > 0


class ChannelSerializer(ReadStateFields, serializers.ModelSerializer):
    is_member = serializers.BooleanField(read_only=True, help_text="Whether you are a member.")

    class Meta:
        model = Channel
        fields = [
            "id",
            "name",
            "topic",
            "is_private",
            "created_by",
            "created_at",
            "last_message_at",
            "is_member",
            "last_read_at",
            "unread_count",
            "has_unread",
        ]
        read_only_fields = fields


class ChannelReadStateSerializer(ReadStateFields):
    class Meta:
        ref_name = "ChannelReadState"


class ChannelReadSerializer(serializers.Serializer):
    message = IdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of a message of this channel: mark read up to it (its `created_at`). "
        "Without it: up to the channel's newest message.",
    )

    def validate_message(self, value: int | None) -> Message | None:
        if value is None:
            return None
        channel = self.context["channel"]
        message = Message.objects.filter(pk=value, channel_id=channel.pk).only("id", "channel_id", "created_at").first()
        if message is not None:
            return message
        if selectors.message_list_visible(user=self.context["request"].user).filter(pk=value).exists():
            raise serializers.ValidationError("The message is in another channel.")
        raise serializers.ValidationError(f"No message with id {value}.")


class ChannelCreateSerializer(serializers.Serializer):
    name = NotBlankCharField(max_length=100)
    topic = OptionalCharField(max_length=250, required=False, default="")
    is_private = StrictBooleanField(required=False, default=False)
    members = serializers.ListField(
        child=IdField(),
        required=False,
        default=list,
        max_length=1000,
        help_text="Ids of people of your company to add; you are always a member of a channel you create.",
    )

    def validate_members(self, value: list[int]) -> list[User]:
        return company_users(self.context["request"], value)


class ChannelUpdateSerializer(serializers.Serializer):
    name = NotBlankCharField(max_length=100, required=False)
    topic = OptionalCharField(max_length=250, required=False)
    is_private = StrictBooleanField(required=False)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = ChannelMembership
        fields = ["user", "username", "joined_at", "last_read_at"]
        read_only_fields = fields


class MembershipCreateSerializer(serializers.Serializer):
    user = IdField(help_text="Id of a person of your company.")

    def validate_user(self, value: int) -> User:
        return company_users(self.context["request"], [value])[0]


class ReactionSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageReaction
        fields = ["message", "user", "emoji", "created_at"]
        read_only_fields = fields


class ReactionCreateSerializer(serializers.Serializer):
    emoji = NotBlankCharField(max_length=64)


class MessageReactionSummarySerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    emoji = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "MessageReactionSummary"


class MessageSerializer(serializers.ModelSerializer):
    reply_count = serializers.IntegerField(read_only=True, min_value=0, help_text="Number of direct replies.")
    # Read from the prefetched reactions (selectors): no query per message.
    reactions = MessageReactionSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "channel",
            "author",
            "parent",
            "body",
            "created_at",
            "edited_at",
            "reply_count",
            "reactions",
        ]
        read_only_fields = fields


class MessageCreateSerializer(serializers.Serializer):
    body = NotBlankCharField(max_length=10_000)
    parent = IdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of a message of the same channel: this message is a reply in its thread.",
    )

    def validate_parent(self, value: int | None) -> Message | None:
        if value is None:
            return None
        channel = self.context["channel"]
        parent = selectors.message_list_visible(user=self.context["request"].user).filter(pk=value).first()
        if parent is None:
            raise serializers.ValidationError(f"No message with id {value}.")
        if parent.channel_id != channel.pk:
            raise serializers.ValidationError("The parent message is in another channel.")
        return parent


class MessageUpdateSerializer(serializers.Serializer):
    body = NotBlankCharField(max_length=10_000, required=False)
