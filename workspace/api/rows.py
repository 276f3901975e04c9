"""Read paths that skip model instances: a list page built from ``.values()``
rows, with the nested lists (a message's reactions, a meeting's participants)
built by the database where it can.

The read-only serializers stay the source of the OpenAPI schema
(``extend_schema(responses=...)``); the views that use these rows turn them
into exactly the JSON the serializer would give (same keys, same order, same
date-time format: tests compare both on SQLite and PostgreSQL).

- PostgreSQL: the nested list is one ``ARRAY(SELECT jsonb_build_object(...)
  ORDER BY ...)`` column of the page query (``ArraySubquery`` of a
  ``JSONObject``): one query for the page and its children.
- Other databases (SQLite): Django has no ``ArraySubquery`` there; the
  children come from one more query for the whole page (what a
  ``prefetch_related`` does, without building instances).
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connections
from django.db.models import CharField, DateTimeField, Func, OuterRef, QuerySet
from django.db.models.functions import JSONObject
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

if TYPE_CHECKING:  # PostgreSQL-only module, imported where it is used
    from django.contrib.postgres.expressions import ArraySubquery

#: DRF's own formatting of a date-time (time zone, ISO 8601, ``Z``): the
#: serializers' ``DateTimeField`` output, character for character.
_datetime_field = serializers.DateTimeField()


def datetime_repr(value: datetime | str | None) -> str | None:
    """A date-time as the serializers write it. A string comes from JSON the
    database built (PostgreSQL writes ``+00:00`` and trims trailing zeros of
    the fraction): parsed, then formatted like the serializer's."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return _datetime_field.to_representation(value)


def datetime_formatter() -> Callable[[datetime | str | None], str | None]:
    """``datetime_repr`` for one page: with the settings of this project
    (``USE_TZ``, DRF's ISO 8601 output) the same steps as DRF's
    ``DateTimeField.to_representation`` (to the current time zone,
    ``isoformat()``, ``+00:00`` written ``Z``) with the current time zone
    looked up once per page instead of once per value (that lookup was a
    third of the page's Python time); with other settings, DRF's field."""
    output_format = api_settings.DATETIME_FORMAT
    if not settings.USE_TZ or output_format is None or output_format.lower() != ISO_8601:
        return datetime_repr
    zone = timezone.get_current_timezone()
    utc = timezone.get_current_timezone_name() == "UTC"

    def fast(value: datetime | str | None) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            if utc and value.endswith("Z"):  # written by the database as DRF writes it (UtcIsoDateTime)
                return value
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:  # not from this project's database: DRF decides
            return _datetime_field.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return fast


def builds_json_arrays(queryset: QuerySet) -> bool:
    """Whether the database of ``queryset`` builds the nested lists itself."""
    return connections[queryset.db].vendor == "postgresql"


class UtcIsoDateTime(Func):
    """A date-time column as DRF writes it in UTC, written by PostgreSQL:
    ``2026-12-04T16:02:57.462000Z``, without the fraction when it is zero
    (``isoformat()``), null for null. Inside a JSON object built by the
    database it spares the page parsing the date-time back and formatting it
    again (``datetime_formatter`` passes such a string through when the
    current time zone is UTC, and converts it otherwise)."""

    output_field = CharField()
    template = (
        "(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        " || CASE WHEN to_char(%(expressions)s, 'US') = '000000' THEN ''"
        " ELSE to_char(%(expressions)s AT TIME ZONE 'UTC', '.US') END || 'Z')"
    )

    def as_sql(self, compiler, connection, **extra):
        sql, params = super().as_sql(compiler, connection, **extra)
        if params:  # the template repeats its argument: a column only
            raise ValueError("UtcIsoDateTime takes a column, not an expression with parameters")
        return sql, params


def json_array(children: QuerySet, fk: str, **fields) -> "ArraySubquery":
    """``ARRAY(SELECT jsonb_build_object(fields) FROM children WHERE fk =
    outer.pk ORDER BY children's ordering)`` (PostgreSQL only). Date-time
    fields are written by the database as DRF writes them (``UtcIsoDateTime``)."""
    from django.contrib.postgres.expressions import ArraySubquery

    model = children.model
    built = {
        key: UtcIsoDateTime(name) if isinstance(model._meta.get_field(name), DateTimeField) else name
        for key, name in fields.items()
    }
    return ArraySubquery(children.filter(**{fk: OuterRef("pk")}).values(json=JSONObject(**built)))


def attach_children(
    rows: list[dict],
    key: str,
    children: QuerySet,
    fk: str,
    build: Callable[[dict], dict],
    fields: Iterable[str],
) -> None:
    """The fallback of ``json_array``: one query for the children of every
    row of the page, in ``children``'s order, put in ``row[key]`` as
    ``build(child_values)``."""
    by_parent: dict[int, list[dict]] = {row["id"]: [] for row in rows}
    for row in rows:
        row[key] = by_parent[row["id"]]
    if not rows:
        return
    for child in children.filter(**{f"{fk}__in": list(by_parent)}).values(fk, *fields):
        by_parent[child[fk]].append(build(child))
