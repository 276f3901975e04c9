"""The meeting list page without model instances (docs/PERFORMANCE.md,
scenario 6): ``.values()`` rows with the participants (built by PostgreSQL as
JSON in the page query), turned into exactly the JSON of
``MeetingSerializer`` — which stays the schema of the endpoint."""

from django.db.models import Count, QuerySet, Window

from companies.models import User
from meetings import selectors
from meetings.filters import MeetingFilter
from meetings.models import Meeting, MeetingParticipant
from workspace.api.filters import apply_filters
from workspace.api.rows import attach_children, builds_json_arrays, datetime_formatter, json_array
from workspace.db.compiled import NO_ROWS, CompiledQuery, CompiledRows, NoRows

#: the columns of a meeting row (keys of ``.values()``)
MEETING_COLUMNS = (
    "id",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "channel_id",
    "is_private",
    "organizer_id",
    "created_at",
)
#: the columns of a participation (JSON keys on PostgreSQL, ``.values()`` keys elsewhere)
PARTICIPANT_COLUMNS = ("user_id", "response", "joined_at", "left_at")


def _participations() -> QuerySet[MeetingParticipant]:
    return MeetingParticipant.objects.order_by("id")


def meeting_rows(meetings: QuerySet[Meeting]) -> QuerySet:
    """``meetings`` (their order kept) as dicts of ``MEETING_COLUMNS`` +
    ``total_rows`` (+ ``participant_rows`` on PostgreSQL; ``meeting_page_data`` fetches them in
    one query elsewhere). Filter and paginate it like the model queryset."""
    # total_rows: the number of rows before LIMIT/OFFSET, for the page number
    # pagination (workspace.api.pagination.WindowCountPagination).
    extra = {"total_rows": Window(Count("*"))}
    meetings = meetings.prefetch_related(None)
    if builds_json_arrays(meetings):
        extra["participant_rows"] = json_array(_participations(), "meeting_id", **{c: c for c in PARTICIPANT_COLUMNS})
    return meetings.annotate(**extra).values(*MEETING_COLUMNS, *extra)


def _meeting_page(shape: frozenset, *, user_id: int, company_id: int, **filters) -> QuerySet:
    """The meeting list's queryset (``CompiledRows.builder`` pages it):
    ``filters`` are the ``MeetingFilter`` values given (their names are the
    shape), applied by the filter set itself."""
    meetings = meeting_rows(selectors.meeting_list_visible(user=User(pk=user_id, company_id=company_id)))
    return apply_filters(MeetingFilter, meetings, filters)


#: The meeting list page, compiled once per process and shape (workspace/db/compiled.py).
MEETING_PAGE = CompiledQuery(CompiledRows.builder(_meeting_page))


def meeting_page_source(*, user: User, filters: dict) -> CompiledRows | NoRows:
    """The meetings the caller may see, with the ``MeetingFilter`` values
    ``filters`` (validated), as rows of ``meeting_rows`` for
    ``WindowCountPagination``; none when the caller has no company."""
    if user.company_id is None:
        return NO_ROWS
    return CompiledRows.with_filters(
        MEETING_PAGE, model=Meeting, filters=filters, user_id=user.pk, company_id=user.company_id
    )


def meeting_page_data(rows: list[dict]) -> list[dict]:
    """What ``MeetingSerializer(page, many=True).data`` gives for these rows."""
    if rows and "participant_rows" not in rows[0]:
        attach_children(rows, "participant_rows", _participations(), "meeting_id", lambda p: p, PARTICIPANT_COLUMNS)
    when = datetime_formatter()
    return [
        {
            "id": g["id"],
            "title": g["title"],
            "description": g["description"],
            "starts_at": when(g["starts_at"]),
            "ends_at": when(g["ends_at"]),
            "channel": g["channel_id"],
            "is_private": g["is_private"],
            "organizer": g["organizer_id"],
            "created_at": when(g["created_at"]),
            "participants": [
                {
                    "user": p["user_id"],
                    "response": p["response"],
                    "joined_at": when(p["joined_at"]),
                    "left_at": when(p["left_at"]),
                }
                for p in g["participant_rows"]
            ],
        }
        for g in rows
    ]
