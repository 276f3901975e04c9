from django.contrib import admin

from chat.models import Channel, ChannelMembership, Message, MessageReaction


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "is_private", "created_at", "last_message_at"]
    list_filter = ["company", "is_private"]
    readonly_fields = ["last_message_at"]


@admin.register(ChannelMembership)
class ChannelMembershipAdmin(admin.ModelAdmin):
    list_display = ["channel", "user", "joined_at"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "channel", "author", "created_at", "edited_at"]


@admin.register(MessageReaction)
class MessageReactionAdmin(admin.ModelAdmin):
    list_display = ["emoji", "message", "user", "created_at"]
