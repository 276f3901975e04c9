"""The chat app's derived fields, registered with the integrity audit
(``workspace.db.derived``) by ``ChatConfig.ready()``: the values its receivers
maintain (chat/signals.py) that a write bypassing Django can leave wrong."""

from django.db.models import F, OuterRef, Q, Subquery

from chat.models import Channel, Message
from companies.models import User
from workspace.db.derived import DerivedField


def newest_message(outer: str) -> Subquery:
    """``created_at`` of the newest message whose ``outer`` is the outer row."""
    return Subquery(
        Message._base_manager.filter(**{outer: OuterRef("pk")}).order_by("-created_at").values("created_at")[:1]
    )


def stale_channels(company_id: int | None = None):
    """Channels whose ``last_message_at`` is not the ``created_at`` of their
    newest message (null-safe both ways)."""
    qs = Channel._base_manager.annotate(newest=newest_message("channel")).filter(
        Q(last_message_at__isnull=True, newest__isnull=False)
        | Q(last_message_at__isnull=False, newest__isnull=True)
        | Q(last_message_at__lt=F("newest"))
        | Q(last_message_at__gt=F("newest"))
    )
    return qs if company_id is None else qs.filter(company_id=company_id)


def stale_authors(company_id: int | None = None):
    """Users whose ``last_active`` is null or older than their newest message
    (a post moves it forward; other activity may have moved it further)."""
    qs = (
        User._base_manager.annotate(newest=newest_message("author"))
        .filter(newest__isnull=False)
        .filter(Q(last_active__isnull=True) | Q(last_active__lt=F("newest")))
    )
    return qs if company_id is None else qs.filter(company_id=company_id)


DERIVED_FIELDS = (
    DerivedField(
        kind="stale_last_message_at",
        model=Channel,
        field="last_message_at",
        problem="last_message_at != created_at of the newest message",
        repair="last_message_at recomputed",
        stale=stale_channels,
        value=lambda: newest_message("channel"),
    ),
    DerivedField(
        kind="stale_last_active",
        model=User,
        field="last_active",
        problem="last_active null or older than the newest message",
        repair="last_active moved forward to the newest message",
        stale=stale_authors,
        value=lambda: newest_message("author"),
    ),
)
