"""The message list page without model instances (docs/PERFORMANCE.md,
scenario 4): ``.values()`` rows with the reply count and the reactions (built
by PostgreSQL as JSON in the page query), turned into exactly the JSON of
``MessageSerializer`` — which stays the schema of the endpoint."""

from functools import cache

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce

from chat import selectors
from chat.filters import MessageFilter
from chat.models import ChannelMembership, Message, MessageReaction
from companies.models import User
from workspace.api.filters import apply_filters
from workspace.api.rows import attach_children, builds_json_arrays, datetime_formatter, json_array
from workspace.db.compiled import NO_ROWS, CompiledQuery, CompiledRows, NoRows

#: the columns of a message row (keys of ``.values()``)
MESSAGE_COLUMNS = ("id", "channel_id", "author_id", "parent_id", "body", "created_at", "edited_at")
#: the columns of a reaction (JSON keys on PostgreSQL, ``.values()`` keys elsewhere)
REACTION_COLUMNS = ("user_id", "emoji", "created_at")


def _reactions() -> QuerySet[MessageReaction]:
    return MessageReaction.objects.order_by("created_at", "id")


def visible_channel_messages(*, user: User, channel_id: int) -> QuerySet[Message]:
    """The messages of channel ``channel_id`` if the caller may see it (the
    rule of ``selectors.channel_list_visible``), else none: the visibility
    check travels in the page query itself, as in the raw limit. An empty
    page does not tell a hidden channel from an empty one: the view then
    checks the channel (404)."""
    if user.company_id is None:
        return Message.objects.none()
    member = Exists(ChannelMembership.objects.filter(channel_id=OuterRef("channel_id"), user_id=user.pk))
    return Message.objects.filter(channel_id=channel_id, channel__company_id=user.company_id).filter(
        Q(channel__is_private=False) | member
    )


@cache
def _annotations(json_arrays: bool) -> dict:
    """The per-message subqueries, built once per process: building their
    querysets cost more Python than the page's own query (Django resolves a
    copy of them into every query; the originals are never changed)."""
    replies = (
        Message.objects.filter(parent_id=OuterRef("pk"))
        .order_by()
        .values("parent_id")
        .annotate(count=Count("*"))
        .values("count")
    )
    extra = {"reply_count": Coalesce(Subquery(replies, output_field=IntegerField()), Value(0))}
    if json_arrays:
        extra["reaction_rows"] = json_array(_reactions(), "message_id", **{c: c for c in REACTION_COLUMNS})
    return extra


def message_rows(messages: QuerySet[Message]) -> QuerySet:
    """``messages`` as dicts of ``MESSAGE_COLUMNS`` + ``reply_count`` (+
    ``reaction_rows`` on PostgreSQL; ``message_page_data`` fetches them in one
    query elsewhere). Filter and paginate it like the model queryset."""
    extra = _annotations(builds_json_arrays(messages))
    return messages.order_by().annotate(**extra).values(*MESSAGE_COLUMNS, *extra)


def _message_page(shape: frozenset, *, user_id: int, company_id: int, channel_id: int, **filters) -> QuerySet:
    """The message list's queryset (``CompiledRows.builder`` pages it):
    ``filters`` are the ``MessageFilter`` values given (their names are the
    shape), applied by the filter set itself."""
    user = User(pk=user_id, company_id=company_id)
    return apply_filters(
        MessageFilter, message_rows(visible_channel_messages(user=user, channel_id=channel_id)), filters
    )


#: The message list page, compiled once per process and shape (workspace/db/compiled.py).
MESSAGE_PAGE = CompiledQuery(CompiledRows.builder(_message_page))


def message_page_source(*, user: User, channel_id: int, filters: dict) -> CompiledRows | NoRows:
    """The messages of channel ``channel_id`` the caller may see, with the
    ``MessageFilter`` values ``filters`` (validated), as rows of
    ``message_rows`` for ``NewestFirstCursorPagination``; none when the
    caller has no company."""
    if user.company_id is None:
        return NO_ROWS
    return CompiledRows.with_filters(
        MESSAGE_PAGE, model=Message, filters=filters, user_id=user.pk, company_id=user.company_id, channel_id=channel_id
    )


def message_page_data(rows: list[dict]) -> list[dict]:
    """What ``MessageSerializer(page, many=True).data`` gives for these rows."""
    if rows and "reaction_rows" not in rows[0]:
        attach_children(rows, "reaction_rows", _reactions(), "message_id", lambda r: r, REACTION_COLUMNS)
    when = datetime_formatter()
    return [
        {
            "id": m["id"],
            "channel": m["channel_id"],
            "author": m["author_id"],
            "parent": m["parent_id"],
            "body": m["body"],
            "created_at": when(m["created_at"]),
            "edited_at": when(m["edited_at"]),
            "reply_count": m["reply_count"],
            "reactions": [
                {"user": r["user_id"], "emoji": r["emoji"], "created_at": when(r["created_at"])}
                for r in m["reaction_rows"]
            ],
        }
        for m in rows
    ]


#: the columns of a channel row (keys of ``.values()``)
CHANNEL_COLUMNS = (
    "id",
    "name",
    "topic",
    "is_private",
    "created_by_id",
    "created_at",
    "last_message_at",
    "is_member",
    "last_read_at",
    "unread_count",
)


def _channel_page(shape: tuple, *, user_id: int, company_id: int, offset: int, limit: int) -> QuerySet:
    """The channels ``offset:offset + limit`` of
    ``selectors.channel_list_visible`` (by name, id), as ``.values()`` rows
    of ``CHANNEL_COLUMNS`` + ``total_rows`` (the number of visible
    channels): one query (docs/PERFORMANCE.md, scenario 7).

    The page's ids are picked first (a sliced subquery: ordering, OFFSET and
    LIMIT), and the read state (``selectors.channel_read_state``) is computed
    for those channels only: the unread count, a correlated subquery, is
    evaluated for the rows of the page, not for every row the OFFSET skips.
    The total is an uncorrelated subquery (evaluated once)."""
    user = User(pk=user_id, company_id=company_id)
    visible = selectors.channel_list_visible(user=user)
    page_ids = visible.values("pk")[offset : offset + limit]
    total = visible.order_by().annotate(total=Window(Count("*"))).values("total")[:1]
    page = selectors.channel_read_state(channels=visible.filter(pk__in=page_ids), user=user)
    return page.annotate(total_rows=Subquery(total, output_field=IntegerField())).values(*CHANNEL_COLUMNS, "total_rows")


#: The channel list page, compiled once per process (workspace/db/compiled.py).
CHANNEL_PAGE = CompiledQuery(_channel_page)


def channel_rows(*, user: User, start: int, stop: int) -> list[dict]:
    """The channels ``start:stop`` the caller may see, with their read state
    and the total (``_channel_page``)."""
    if user.company_id is None:
        return []
    return CHANNEL_PAGE.rows(user_id=user.pk, company_id=user.company_id, offset=start, limit=stop - start)


class ChannelRows:
    """``channel_rows`` for a paginator (``WindowCountPaginator`` slices its
    object list once per page): sliced, it runs the page's query."""

    ordered = True  # by name, id (Django's paginator warns about unordered lists)

    def __init__(self, user: User):
        self.user = user

    def __getitem__(self, page: slice) -> list[dict]:
        return channel_rows(user=self.user, start=page.start, stop=page.stop)


def channel_page_data(rows: list[dict]) -> list[dict]:
    """What ``ChannelSerializer(page, many=True).data`` gives for these rows."""
    when = datetime_formatter()
    return [
        {
            "id": c["id"],
            "name": c["name"],
            "topic": c["topic"],
            "is_private": c["is_private"],
            "created_by": c["created_by_id"],
            "created_at": when(c["created_at"]),
            "last_message_at": when(c["last_message_at"]),
            "is_member": c["is_member"],
            "last_read_at": when(c["last_read_at"]),
            "unread_count": c["unread_count"],
            "has_unread": c["unread_count"] > 0,
        }
        for c in rows
    ]
