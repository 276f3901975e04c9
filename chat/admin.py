"""Admin for inspecting channels, memberships, messages and reactions.

Every write goes through chat.services, with the admin user as ``actor``
(the channel managers' and authors' rules hold here too; a refusal is a form
error: workspace/adminkit.py); the lifecycle field ``last_message_at`` is
read-only (maintained by the receivers; an action recomputes it).
"""

from django.contrib import admin, messages
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.utils.text import Truncator

from chat import selectors, services
from chat.models import Channel, ChannelMembership, Message, MessageReaction
from workspace.adminkit import (
    ChangeViewInlinesMixin,
    FixedOnChangeMixin,
    ImpactPreviewAdminMixin,
    IsNullFilter,
    TenantScopedAdmin,
    TenantScopedInline,
    adopt,
    count_of,
)

RECENT_MESSAGES = 20


class MembershipInline(TenantScopedInline, admin.TabularInline):
    model = ChannelMembership
    extra = 0
    fields = ["user", "joined_at", "last_read_at"]
    readonly_fields = ["joined_at"]
    autocomplete_fields = ["user"]


class RecentMessagesFormSet(BaseInlineFormSet):
    def get_queryset(self):
        if not hasattr(self, "_recent"):
            self._recent = super().get_queryset().order_by("-created_at", "-id")[:RECENT_MESSAGES]
        return self._recent


class RecentMessagesInline(TenantScopedInline, admin.TabularInline):
    """The channel's newest messages, read-only (messages are written and
    deleted through their own page, which calls the services)."""

    model = Message
    fk_name = "channel"
    formset = RecentMessagesFormSet
    verbose_name_plural = f"recent messages (newest {RECENT_MESSAGES})"
    fields = ["created_at", "author", "body", "parent", "edited_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class LastMessageFilter(IsNullFilter):
    title = "messages"
    parameter_name = "has_messages"
    field = "last_message_at"
    null_label = "Empty (no message)"
    not_null_label = "Has messages"


@admin.register(Channel)
class ChannelAdmin(
    ImpactPreviewAdminMixin, TenantScopedAdmin, ChangeViewInlinesMixin, FixedOnChangeMixin, admin.ModelAdmin
):
    list_display = [
        "name",
        "company",
        "is_private",
        "members_count",
        "messages_count",
        "created_by",
        "created_at",
        "last_message_at",
    ]
    list_filter = [
        "company",
        "is_private",
        LastMessageFilter,
        ("last_message_at", admin.DateFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["name", "topic", "company__name"]
    list_select_related = ["company", "created_by"]
    autocomplete_fields = ["company", "created_by"]
    readonly_fields = ["last_message_at"]
    fixed_on_change = ("company", "created_by", "created_at")
    inlines = [MembershipInline, RecentMessagesInline]
    actions = ["recompute_last_message_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_members=count_of(ChannelMembership, "channel"), _messages=count_of(Message, "channel"))
        )

    @admin.display(description="members", ordering="_members")
    def members_count(self, obj):
        return obj._members

    @admin.display(description="messages", ordering="_messages")
    def messages_count(self, obj):
        return obj._messages

    def save_model(self, request, obj, form, change):
        if not change:
            adopt(
                obj,
                services.channel_create(
                    company=obj.company,
                    name=obj.name,
                    created_by=obj.created_by,
                    topic=obj.topic,
                    is_private=obj.is_private,
                ),
            )
            return
        fields = {
            name: form.cleaned_data[name] for name in ("name", "topic", "is_private") if name in form.changed_data
        }
        if fields:
            services.channel_update(channel=obj, actor=request.user, **fields)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ChannelMembership:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        actor = request.user
        for membership in formset.deleted_objects:
            services.membership_remove(channel=form.instance, user=membership.user, actor=actor)
        changed = {id(f.instance): f.changed_data for f in formset.forms}
        for membership in instances:
            if membership.pk is None:
                created = services.membership_add(channel=form.instance, user=membership.user, actor=actor)
                if membership.last_read_at:
                    services.membership_update(membership=created, actor=actor, last_read_at=membership.last_read_at)
            else:
                # Changing the person of a membership is refused (remove it
                # and add another).
                edited = [name for name in changed.get(id(membership), []) if name in ("user", "last_read_at")]
                services.membership_update(
                    membership=membership, actor=actor, **{name: getattr(membership, name) for name in edited}
                )

    def impact_for(self, obj):
        return selectors.channel_delete_preview(channel=obj)

    def delete_model(self, request, obj):
        services.channel_delete(channel=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for channel in list(queryset):
                services.channel_delete(channel=channel, actor=request.user)

    @admin.action(description="Recompute last message time of the selected channels")
    def recompute_last_message_at(self, request, queryset):
        count = services.channel_recompute_last_message(channel_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Recomputed last_message_at of {count} channel(s).", messages.SUCCESS)


@admin.register(ChannelMembership)
class ChannelMembershipAdmin(TenantScopedAdmin, FixedOnChangeMixin, admin.ModelAdmin):
    list_display = ["user", "channel", "company", "joined_at", "last_read_at"]
    list_filter = ["company", "channel__is_private", ("joined_at", admin.DateFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "channel__name"]
    list_select_related = ["user", "channel", "company"]
    autocomplete_fields = ["channel", "user"]
    readonly_fields = ["joined_at"]
    fixed_on_change = ("channel", "user")

    def save_model(self, request, obj, form, change):
        if change:
            if "last_read_at" in form.changed_data:
                services.membership_update(membership=obj, actor=request.user, last_read_at=obj.last_read_at)
        else:
            adopt(obj, services.membership_add(channel=obj.channel, user=obj.user, actor=request.user))
            if obj.last_read_at != form.cleaned_data.get("last_read_at"):
                services.membership_update(
                    membership=obj, actor=request.user, last_read_at=form.cleaned_data["last_read_at"]
                )

    def delete_model(self, request, obj):
        services.membership_remove(channel=obj.channel, user=obj.user, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for membership in list(queryset.select_related("channel", "user")):
                services.membership_remove(channel=membership.channel, user=membership.user, actor=request.user)


class ReactionInline(TenantScopedInline, admin.TabularInline):
    model = MessageReaction
    extra = 0
    fields = ["emoji", "user", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ThreadFilter(IsNullFilter):
    title = "thread"
    parameter_name = "reply"
    field = "parent"
    null_label = "Top-level messages"
    not_null_label = "Thread replies"


class EditedFilter(IsNullFilter):
    title = "edited"
    parameter_name = "edited"
    field = "edited_at"
    null_label = "Never edited"
    not_null_label = "Edited"


@admin.register(Message)
class MessageAdmin(TenantScopedAdmin, ChangeViewInlinesMixin, FixedOnChangeMixin, admin.ModelAdmin):
    list_display = ["id", "excerpt", "channel", "company", "author", "parent_id", "created_at", "edited_at"]
    list_filter = [
        "company",
        "channel__is_private",
        ThreadFilter,
        EditedFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["body", "author__username", "channel__name"]
    list_select_related = ["channel", "company", "author"]
    autocomplete_fields = ["channel", "author", "parent"]
    readonly_fields = ["edited_at"]
    fixed_on_change = ("channel", "author", "parent", "created_at")
    date_hierarchy = "created_at"
    inlines = [ReactionInline]

    @admin.display(description="body")
    def excerpt(self, obj):
        return Truncator(obj.body).chars(60)

    def save_model(self, request, obj, form, change):
        if change:
            if "body" in form.changed_data:
                services.message_update(message=obj, body=obj.body, actor=request.user)
        else:
            adopt(
                obj,
                services.message_create(
                    channel=obj.channel,
                    author=obj.author,
                    body=obj.body,
                    parent=obj.parent,
                    created_at=obj.created_at,
                    actor=request.user,
                ),
            )

    def delete_model(self, request, obj):
        services.message_delete(message=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for pk in list(queryset.values_list("pk", flat=True)):
                message = Message.objects.filter(pk=pk).first()  # a reply may be gone with its parent
                if message is not None:
                    services.message_delete(message=message, actor=request.user)


@admin.register(MessageReaction)
class MessageReactionAdmin(TenantScopedAdmin, FixedOnChangeMixin, admin.ModelAdmin):
    list_display = ["emoji", "user", "message", "company", "created_at"]
    list_filter = ["company", "emoji", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["emoji", "user__username", "message__body"]
    list_select_related = ["user", "message", "company"]
    autocomplete_fields = ["message", "user"]
    fixed_on_change = ("message", "user", "emoji", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            adopt(obj, services.reaction_add(message=obj.message, user=obj.user, emoji=obj.emoji))

    def delete_model(self, request, obj):
        services.reaction_remove(message=obj.message, user=obj.user, emoji=obj.emoji)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for reaction in list(queryset.select_related("message", "user")):
                services.reaction_remove(message=reaction.message, user=reaction.user, emoji=reaction.emoji)
