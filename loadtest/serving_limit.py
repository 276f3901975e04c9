"""The serving limit of `make loadtest` (docs/operations.md, "Load test"): the
first page of ``GET /api/channels/{id}/messages/`` from a minimal Django view.

What the API does for that page, with nothing else: the same token check
(knox: the first 15 characters are the key, the SHA-512 digest must match,
not expired, user and company active) in one raw query, the page in one raw
query (``chat.limits.RAW_PAGE_SQL``, the benchmarks' limit), and the same JSON
(``{"next", "previous", "results"}`` with the serializer's keys, date-times
and cursor) written with ``json.dumps``. No DRF, no ORM, no instances. It is
served by the same gunicorn, settings and middleware as the API, so the
throughput ratio of the two is the cost of the framework layers above the
database (loadtest/limit.py measures it).

It is not part of the project's URLs: loadtest/serving_urls.py adds it, and
`make loadtest` serves that URLconf (``DJANGO_ROOT_URLCONF``). It reads and
never writes: an expired token is refused but not deleted (the API deletes
it), and ``last_active`` is not touched (request.user stays the anonymous
session user). Only the first page: a ``?cursor=`` is ignored, and ``next``
points at the API, which serves the following pages.
"""

import json
from base64 import b64encode
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from knox.crypto import hash_token
from knox.settings import CONSTANTS

from chat.limits import RAW_PAGE_SQL
from workspace.api.authentication import TOKEN_RE

#: where loadtest/serving_urls.py serves the view
LIMIT_ROUTE = "api/_limit/channels/<int:pk>/messages/"
LIMIT_PATH = "/api/_limit/channels/{id}/messages/"
#: the API's page size (workspace.api.pagination.NewestFirstCursorPagination)
PAGE_SIZE = 50
#: the keyset of the first page: before every message
FIRST_PAGE = (datetime(9999, 1, 1, tzinfo=UTC), 2**62)

#: the token row, its user and the user's company, as the API's
#: TokenAuthentication reads them (one query); the expiry compared with the
#: time given, by the database
TOKEN_SQL = """
    SELECT t.expiry IS NOT NULL AND t.expiry <= %s, u.id, u.company_id, u.is_active, co.is_active
    FROM knox_authtoken t
    JOIN companies_user u ON u.id = t.user_id
    LEFT JOIN companies_company co ON co.id = u.company_id
    WHERE t.token_key = %s AND t.digest = %s
"""

#: a channel the caller may see (for the 404 of an empty page, as the API)
VISIBLE_CHANNEL_SQL = """
    SELECT 1 FROM chat_channel c
    WHERE c.id = %s AND c.company_id = %s
      AND (NOT c.is_private OR EXISTS (
           SELECT 1 FROM chat_channelmembership cm WHERE cm.channel_id = c.id AND cm.user_id = %s))
"""


def _json(data, status: int = 200, **headers) -> HttpResponse:
    # DRF's JSONRenderer writes compact UTF-8: the same bytes on the wire.
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body, status=status, content_type="application/json", headers=headers)


def _refused(detail: str) -> HttpResponse:
    return _json({"detail": detail}, status=401, **{"WWW-Authenticate": "Token"})


def authenticate(header: str) -> tuple[int, int | None] | HttpResponse:
    """``(user id, company id)`` for an ``Authorization: Token <key>`` header,
    or the 401 the API gives."""
    prefix, _, token = header.partition(" ")
    if prefix != "Token" or not token:
        return _refused("Authentication credentials were not provided.")
    if not TOKEN_RE.fullmatch(token):
        return _refused("Invalid token.")
    with connection.cursor() as cursor:
        cursor.execute(TOKEN_SQL, [timezone.now(), token[: CONSTANTS.TOKEN_KEY_LENGTH], hash_token(token)])
        row = cursor.fetchone()
    if row is None:
        return _refused("Invalid token.")
    expired, user_id, company_id, user_active, company_active = row
    if expired:
        return _refused("Token expired.")
    if not user_active or company_active is not None and not company_active:
        return _refused("User inactive or deleted.")
    return user_id, company_id


def when(value: datetime | str | None) -> str | None:
    """A date-time as the API writes it (UTC, ISO 8601, ``Z``); a string is
    one PostgreSQL wrote into JSON (``+00:00``, trailing zeros trimmed)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def next_cursor(positions: list[datetime], page_size: int = PAGE_SIZE) -> str | None:
    """DRF's ``CursorPagination.get_next_link`` cursor for a first page:
    ``positions`` are the ``created_at`` of the rows fetched (page size + 1
    when there is a next page). The position is the last one on the page
    that differs from the row after it; ``o`` counts the rows after it."""
    if len(positions) <= page_size:
        return None
    compare = str(positions[page_size])
    offset, position = 0, None
    for value in reversed(positions[:page_size]):
        if str(value) != compare:
            position = str(value)
            break
        offset += 1
    else:  # no unique position on the first page
        offset = page_size
    tokens = {}
    if offset:
        tokens["o"] = str(offset)
    if position is not None:
        tokens["p"] = position
    return b64encode(urlencode(tokens).encode("ascii")).decode("ascii")


@require_GET
def channel_messages_limit(request, pk: int) -> HttpResponse:
    caller = authenticate(request.headers.get("Authorization", ""))
    if isinstance(caller, HttpResponse):
        return caller
    user_id, company_id = caller
    if company_id is None:
        return _json({"detail": "Only members of a company can use this endpoint."}, status=403)
    with connection.cursor() as cursor:
        cursor.execute(RAW_PAGE_SQL, [pk, company_id, user_id, *FIRST_PAGE, PAGE_SIZE + 1])
        rows = cursor.fetchall()
        if not rows:
            cursor.execute(VISIBLE_CHANNEL_SQL, [pk, company_id, user_id])
            if cursor.fetchone() is None:
                return _json({"detail": "No such channel."}, status=404)
    results = []
    for id_, channel, author, parent, body, created_at, edited_at, reply_count, reactions in rows[:PAGE_SIZE]:
        if isinstance(reactions, str):  # Django's psycopg leaves json as text
            reactions = json.loads(reactions)
        results.append(
            {
                "id": id_,
                "channel": channel,
                "author": author,
                "parent": parent,
                "body": body,
                "created_at": when(created_at),
                "edited_at": when(edited_at),
                "reply_count": reply_count,
                "reactions": [
                    {"user": r["user"], "emoji": r["emoji"], "created_at": when(r["created_at"])} for r in reactions
                ],
            }
        )
    cursor = next_cursor([row[5] for row in rows])
    next_url = None
    if cursor is not None:
        next_url = request.build_absolute_uri(f"/api/channels/{pk}/messages/") + "?" + urlencode({"cursor": cursor})
    return _json({"next": next_url, "previous": None, "results": results})
