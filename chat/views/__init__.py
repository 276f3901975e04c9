"""API of the chat app, one module per resource: channels, read state,
members, messages, reactions.

Thin views: a serializer validates, a selector finds what the caller may see
(anything else is 404), a service checks the caller's permission (``actor``)
and writes; its errors become statuses in one place
(workspace/api/exceptions.py). Rules in docs/api.md.
"""

from chat.filters import MessageFilter
from chat.views.channels import ChannelDeletePreviewView, ChannelDetailView, ChannelListView, ChannelScopedView
from chat.views.members import ChannelMemberDetailView, ChannelMemberListView
from chat.views.messages import ChannelMessageListView, MessageDetailView, MessageScopedView
from chat.views.reactions import MessageReactionDetailView, MessageReactionListView
from chat.views.read_state import ChannelReadView

__all__ = [
    "ChannelDeletePreviewView",
    "ChannelDetailView",
    "ChannelListView",
    "ChannelMemberDetailView",
    "ChannelMemberListView",
    "ChannelMessageListView",
    "ChannelReadView",
    "ChannelScopedView",
    "MessageDetailView",
    "MessageFilter",
    "MessageReactionDetailView",
    "MessageReactionListView",
    "MessageScopedView",
]
