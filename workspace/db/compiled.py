"""Querysets compiled once per process: the ORM writes the SQL, a later call
only binds new values (docs/PERFORMANCE.md, "Compiled list queries").

Django turns a queryset into SQL on every evaluation. For a list page that
is more Python than the database spends running the query (the message list
page: about 2 ms of building and compiling for 1.2 ms of execution), and the
SQL is the same on every call but for a few values: the caller, the channel,
the cursor's position, the page's offset. ``CompiledQuery`` asks the ORM for
that SQL once per database and *shape* (whatever changes the SQL text: which
filters apply, the ordering), finds where each named value lands in it, and
afterwards runs the same SQL with other values, through the connection's
cursor (execute wrappers, metrics and traces included), with the ORM's own
converters applied to the rows.

How a value is located: the queryset is built and compiled twice, with two
sets of distinct stand-in values (*markers*) of the values' types. In each,
every parameter is traced back to the value whose marker it holds — as
given, or as the backend adapts a field's value (SQLite stores date-times as
text) — or else is a constant of the query; an integer marker written into
the SQL text (Django writes ``LIMIT`` and ``OFFSET`` as numbers) becomes a
parameter too. The two results must be the same SQL with the same slots:
else a value changed the SQL (it was written in another form, or the
builder branched on it) and compiling fails loudly. A builder branches on
the shape only.

Values that can be bound: ``int``, ``str``, ``datetime`` (aware), ``date``.
``None`` and booleans change the SQL (``IS NULL``, folded conditions): they
are part of the shape.
"""

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

#: ``build(shape, **values)`` returns the ``.values()`` queryset to compile.
Builder = Callable[..., QuerySet]


class CompileError(TypeError):
    """The queryset cannot be compiled for reuse (a value changes its SQL,
    or cannot be found among its parameters): a programming error."""


#: The types a value may have; the plan cache is keyed by them.
BINDABLE = (int, str, datetime, date)


def _kind(value: Any) -> type:
    """The type a value is bound as (``datetime`` before ``date``: a
    date-time is a date too)."""
    if isinstance(value, bool) or value is None:
        raise CompileError(f"{value!r} changes a query's SQL: pass it in the shape, not as a value")
    if isinstance(value, datetime) and value.tzinfo is None:
        raise CompileError("naive date-time: bind aware date-times only")
    for kind in BINDABLE:
        if isinstance(value, kind):
            return kind
    raise CompileError(f"cannot bind a {type(value).__name__} value")


def _marker(kind: type, index: int, variant: int) -> Any:
    """A stand-in value of ``kind``: different for every value name
    (``index``) and each of the two compilations (``variant``), and unlikely
    to be a constant of any query."""
    k = 2 * index + variant + 1
    if kind is int:
        return 7_311_999_000_000 + k  # positive: it may be a slice bound
    if kind is str:
        return f"\x1fcompiled-query-marker-{k}\x1f"
    if kind is datetime:
        return datetime(1901, 2, 3, tzinfo=UTC) + timedelta(seconds=k, microseconds=k)
    return date(1901, 2, 3) + timedelta(days=k)


def _adapters(connection) -> list[Callable[[Any], Any]]:
    """How a value may appear among the parameters: as given, or adapted by
    the backend the way the ORM adapts a field's value."""
    ops = connection.ops
    return [_as_given, ops.adapt_datetimefield_value, ops.adapt_datefield_value]


def _as_given(value: Any) -> Any:
    return value


def _owner(param: Any, markers: dict[str, Any], connection) -> tuple[str, Callable[[Any], Any]] | None:
    """The value (name, adapter) whose marker this parameter holds."""
    found = []
    for name, marker in markers.items():
        for adapt in _adapters(connection):
            try:
                if type(param) is type(adapt(marker)) and adapt(marker) == param:
                    found.append((name, adapt))
                    break
            except (TypeError, ValueError, AttributeError):
                continue
    if len(found) > 1:
        raise CompileError(f"parameter {param!r} matches several values: {[n for n, _ in found]}")
    return found[0] if found else None


def _template(sql: str, params: tuple, markers: dict[str, Any], connection) -> tuple[str, tuple]:
    """The SQL with every value as a placeholder, and its slots in order:
    ``(name, adapter)`` for a value, ``(None, constant)`` for a constant
    parameter. A value may be a parameter (``%s``) or written into the SQL:
    Django writes ``LIMIT``/``OFFSET`` as numbers, found here by their
    (integer) markers."""
    inline = {str(m): name for name, m in markers.items() if type(m) is int}
    pattern = "%%|%s" + "".join(f"|(?<![0-9]){re.escape(text)}(?![0-9])" for text in inline)
    parts, slots, params_left, last = [], [], iter(params), 0
    for match in re.finditer(pattern, sql):
        token = match.group()
        if token == "%%":
            continue
        parts.append(sql[last : match.start()])
        parts.append("%s")
        last = match.end()
        if token == "%s":
            param = next(params_left)
            slots.append(_owner(param, markers, connection) or (None, param))
        else:
            slots.append((inline[token], int))
    parts.append(sql[last:])
    if next(params_left, _END) is not _END:
        raise CompileError("more parameters than placeholders in the compiled SQL")
    return "".join(parts), tuple(slots)


_END = object()


@dataclass(frozen=True)
class Plan:
    """One shape of a query, compiled: the SQL, where each placeholder's
    value comes from (``(name, adapt)`` for a value, ``(None, constant)``
    otherwise), the row keys and the ORM's converters by column."""

    sql: str | None  # None: the query can match nothing (EmptyResultSet)
    slots: tuple[tuple[str | None, Any], ...]
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple, Any], ...]

    def params(self, values: dict[str, Any]) -> list[Any]:
        return [adapt(values[name]) if name is not None else adapt for name, adapt in self.slots]


def _compile(queryset: QuerySet):
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None, (), compiler
    return sql, tuple(params), compiler


def _names(queryset: QuerySet) -> tuple[str, ...]:
    # As ``ValuesIterable`` names a row's keys.
    query = queryset.query
    if query.selected:
        return tuple(query.selected)
    return (*query.extra_select, *query.values_select, *query.annotation_select)


class CompiledQuery:
    """A ``.values()`` queryset compiled once per database and shape.

    ``build(shape, **values)`` returns the queryset; ``rows(shape=...,
    **values)`` returns its rows as dicts, exactly as iterating the queryset
    would, without building or compiling it again. At most ``shapes`` plans
    are kept per query (least recently used first out)."""

    def __init__(self, build: Builder, *, shapes: int = 128):
        self.build = build
        self._plan = lru_cache(maxsize=shapes)(self._make_plan)

    def _make_plan(self, alias: str, shape: Hashable, kinds: tuple[tuple[str, type], ...]) -> Plan:
        connection = connections[alias]
        variants = []
        for variant in (0, 1):
            markers = {name: _marker(kind, i, variant) for i, (name, kind) in enumerate(kinds)}
            queryset = self.build(shape, **markers).using(alias)
            sql, params, compiler = _compile(queryset)
            if sql is None:
                variants.append((None, (), compiler, queryset))
                continue
            variants.append((*_template(sql, params, markers, connection), compiler, queryset))
        (sql, slots, compiler, queryset), (sql_b, slots_b, _, _) = variants
        if sql != sql_b or slots != slots_b:
            raise CompileError(f"the SQL of shape {shape!r} depends on a value: move that value into the shape")
        converters = ()
        if sql is not None:
            fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
            converters = tuple(
                (pos, tuple(convs), expr) for pos, (convs, expr) in compiler.get_converters(fields).items()
            )
        return Plan(sql, slots, _names(queryset), converters)

    def rows(self, *, shape: Hashable = (), using: str = DEFAULT_DB_ALIAS, **values) -> list[dict]:
        kinds = tuple((name, _kind(value)) for name, value in sorted(values.items()))
        plan = self._plan(using, shape, kinds)
        if plan.sql is None:
            return []
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, plan.params(values))
            fetched = cursor.fetchall()
        names = plan.names
        if not plan.converters:
            return [dict(zip(names, row)) for row in fetched]
        result = []
        for row in fetched:
            row = list(row)
            for pos, convs, expression in plan.converters:
                value = row[pos]
                for convert in convs:
                    value = convert(value, expression, connection)
                row[pos] = value
            result.append(dict(zip(names, row)))
        return result

    def clear(self) -> None:
        self._plan.cache_clear()


class CompiledRows:
    """What a paginator asks of a queryset — ``order_by(*fields)``,
    ``filter(**lookups)`` and a slice — recorded, and the slice run as a
    ``CompiledQuery``: DRF's and Django's paginators page a compiled query
    unchanged. The ordering and the lookups' names are the
    shape; the lookups' values and the slice (``offset``, ``limit``) are
    bound, each lookup's value first converted by its model field's
    ``to_python`` (a cursor's position arrives as text).

    ``query`` must be built by ``CompiledRows.builder(base)``, where
    ``base(shape, **values)`` returns the unordered, unsliced queryset."""

    def __init__(self, query: CompiledQuery, *, model, shape: Hashable = (), ordering=(), lookups=(), **values):
        self.query, self.model, self.shape = query, model, shape
        self.ordering, self.lookups, self.values = tuple(ordering), tuple(lookups), values

    @classmethod
    def with_filters(cls, query: CompiledQuery, *, model, filters: dict, **values) -> "CompiledRows":
        """The rows of ``query`` with the filter values ``filters`` that are
        given (None: absent) bound as values and their names as the shape:
        which filters apply changes the SQL, their values do not."""
        given = {name: value for name, value in filters.items() if value is not None}
        return cls(query, model=model, shape=frozenset(given), **values, **given)

    def _replace(self, **changes) -> "CompiledRows":
        state = {"shape": self.shape, "ordering": self.ordering, "lookups": self.lookups, **self.values}
        return CompiledRows(self.query, model=self.model, **(state | changes))

    def order_by(self, *fields: str) -> "CompiledRows":
        return self._replace(ordering=fields)

    def filter(self, **lookups) -> "CompiledRows":
        bound = {}
        for lookup, value in lookups.items():
            field = self.model._meta.get_field(lookup.split("__", 1)[0])
            bound[f"where {lookup}"] = field.to_python(value)
        return self._replace(lookups=(*self.lookups, *lookups), **bound)

    def __getitem__(self, page: slice) -> list[dict]:
        if not isinstance(page, slice) or page.step is not None:
            raise TypeError("CompiledRows only takes a slice without a step")
        start = page.start or 0
        if page.stop is None or page.stop < start:
            raise TypeError("CompiledRows only takes a bounded slice")
        shape = (self.shape, self.ordering, self.lookups)
        return self.query.rows(shape=shape, offset=start, limit=page.stop - start, **self.values)

    @staticmethod
    def builder(base: Builder) -> Builder:
        """The ``build`` of a ``CompiledQuery`` paged through ``CompiledRows``."""

        def build(shape, *, offset: int, limit: int, **values):
            base_shape, ordering, lookups = shape
            queryset = base(base_shape, **{k: v for k, v in values.items() if not k.startswith("where ")})
            if ordering:
                queryset = queryset.order_by(*ordering)
            for lookup in lookups:
                queryset = queryset.filter(**{lookup: values[f"where {lookup}"]})
            return queryset[offset : offset + limit]

        return build


class NoRows:
    """Rows of a caller who can see nothing, for the same paginators."""

    def order_by(self, *fields: str) -> "NoRows":
        return self

    def filter(self, **lookups) -> "NoRows":
        return self

    def __getitem__(self, page: slice) -> list[dict]:
        return []


NO_ROWS = NoRows()
