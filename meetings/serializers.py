from rest_framework import serializers

from chat.selectors import channel_list_visible
from companies.models import User
from companies.serializers import company_users
from meetings.models import Meeting, MeetingParticipant
from workspace.api.fields import IdField, NotBlankCharField, OptionalCharField, StrictDateTimeField


class ParticipantSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeetingParticipant
        fields = ["user", "response", "joined_at", "left_at"]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    # Read from the prefetched participations (selectors): no query per meeting.
    participants = ParticipantSerializer(source="participations", many=True, read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "title",
            "description",
            "starts_at",
            "ends_at",
            "channel",
            "is_private",
            "organizer",
            "created_at",
            "participants",
        ]
        read_only_fields = fields


class _MeetingInput(serializers.Serializer):
    def validate_channel(self, value: int | None):
        if value is None:
            return None
        channel = channel_list_visible(user=self.context["request"].user).filter(pk=value).first()
        if channel is None:
            raise serializers.ValidationError(f"No channel with id {value}.")
        return channel

    def validate(self, attrs):
        instance = self.context.get("meeting")
        starts_at = attrs.get("starts_at", getattr(instance, "starts_at", None))
        ends_at = attrs.get("ends_at", getattr(instance, "ends_at", None))
        if starts_at is not None and ends_at is not None and ends_at <= starts_at:
            field = "ends_at" if "ends_at" in attrs else "starts_at"
            raise serializers.ValidationError({field: ["A meeting must end after it starts (ends_at > starts_at)."]})
        return attrs


class MeetingCreateSerializer(_MeetingInput):
    title = NotBlankCharField(max_length=200)
    description = OptionalCharField(max_length=10_000, required=False, default="")
    starts_at = StrictDateTimeField()
    ends_at = StrictDateTimeField(help_text="Must be after starts_at.")
    channel = IdField(required=False, allow_null=True, default=None, help_text="A channel you can see.")
    participants = serializers.ListField(
        child=IdField(),
        required=False,
        default=list,
        max_length=1000,
        help_text="Ids of people of your company; you, the organizer, always take part.",
    )

    def validate_participants(self, value: list[int]) -> list[User]:
        return company_users(self.context["request"], value)


class MeetingUpdateSerializer(_MeetingInput):
    title = NotBlankCharField(max_length=200, required=False)
    description = OptionalCharField(max_length=10_000, required=False)
    starts_at = StrictDateTimeField(required=False)
    ends_at = StrictDateTimeField(required=False, help_text="Must be after starts_at.")
    channel = IdField(required=False, allow_null=True, help_text="A channel you can see, or null.")


class ParticipantCreateSerializer(serializers.Serializer):
    user = IdField(help_text="Id of a person of your company.")

    def validate_user(self, value: int) -> User:
        return company_users(self.context["request"], [value])[0]


class RsvpSerializer(serializers.Serializer):
    response = serializers.ChoiceField(
        choices=[
            MeetingParticipant.Response.ACCEPTED,
            MeetingParticipant.Response.DECLINED,
            MeetingParticipant.Response.TENTATIVE,
        ],
        # DRF's message quotes the value sent back; this one is fixed.
        error_messages={"invalid_choice": "Must be one of: accepted, declined, tentative."},
    )
