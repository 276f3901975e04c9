"""Compiled queries (workspace/db/compiled.py): the ORM's SQL compiled once
per shape, run again with other values — the same rows as the queryset, one
query per call, and a loud error rather than a wrong answer when a value
would change the SQL. Both databases."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext

from chat.factories import ChannelFactory, MessageFactory
from chat.models import Message
from workspace.db.compiled import CompiledQuery, CompiledRows, CompileError

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)


def _replies():
    return Coalesce(
        Subquery(
            Message.objects.filter(parent_id=OuterRef("pk"))
            .order_by()
            .values("parent_id")
            .annotate(n=Count("*"))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),  # a constant parameter of the query, kept as it is
    )


def _messages(shape, *, channel_id, since, body, offset, limit):
    """A channel's messages at or after ``since`` whose body is not ``body``,
    with their reply counts, newest first, sliced."""
    queryset = (
        Message.objects.filter(channel_id=channel_id, created_at__gte=since)
        .exclude(body=body)
        .annotate(reply_count=_replies())
        .order_by("-created_at", "-id")
        .values("id", "body", "created_at", "reply_count")
    )
    return queryset[offset : offset + limit]


@pytest.fixture
def two_channels(company):
    channels = ChannelFactory.create_batch(2, company=company)
    for c, channel in enumerate(channels):
        for i in range(12):
            message = MessageFactory(channel=channel, body=f"m{c}-{i}")
            Message.objects.filter(pk=message.pk).update(created_at=T0 + timedelta(minutes=i, microseconds=i * 7))
        parent = Message.objects.filter(channel=channel).order_by("created_at").first()
        MessageFactory.create_batch(3, channel=channel, parent=parent, body="reply")
        Message.objects.filter(parent=parent).update(created_at=T0 - timedelta(days=1))
    return channels


def _expected(**values):
    return list(_messages((), **values))


def test_rows_are_the_querysets_rows_for_any_values_and_one_compilation(two_channels):
    query = CompiledQuery(_messages)
    cases = [
        {"channel_id": two_channels[0].pk, "since": T0, "body": "m0-3", "offset": 0, "limit": 5},
        {"channel_id": two_channels[1].pk, "since": T0 + timedelta(minutes=4), "body": "x", "offset": 2, "limit": 50},
        {"channel_id": two_channels[0].pk, "since": T0 - timedelta(days=2), "body": "", "offset": 0, "limit": 100},
        {"channel_id": two_channels[1].pk, "since": T0, "body": "m1-0", "offset": 11, "limit": 1},
    ]
    for values in cases:
        expected = _expected(**values)
        with CaptureQueriesContext(connection) as captured:
            got = query.rows(**values)
        assert got == expected, values
        assert len(captured) == 1
        assert all(isinstance(row["created_at"], datetime) for row in got)  # the ORM's converters ran
    assert any(row["reply_count"] == 3 for row in query.rows(**cases[2]))
    info = query._plan.cache_info()
    assert (info.misses, info.hits) == (1, 4)  # one plan: the slice and every value are bound


def test_a_value_written_into_the_sql_in_another_form_is_refused(two_channels):
    def labelled(shape, *, channel_id, limit):
        queryset = Message.objects.filter(channel_id=channel_id).values("id")
        return queryset.annotate(label=Value(f"first {limit}"))[:limit]

    with pytest.raises(CompileError, match="depends on a value"):
        CompiledQuery(labelled).rows(channel_id=two_channels[0].pk, limit=5)


def test_a_value_the_orm_rewrites_is_refused(two_channels):
    def search(shape, *, text):
        return Message.objects.filter(body__contains=text).values("id")  # bound as %text%

    with pytest.raises(CompileError):
        CompiledQuery(search).rows(text="m0")


@pytest.mark.parametrize("value", [None, True, 1.5, datetime(2025, 1, 1)])
def test_values_that_cannot_be_bound(value):
    query = CompiledQuery(lambda shape, **v: Message.objects.values("id"))
    with pytest.raises(CompileError):
        query.rows(x=value)


def test_the_shape_picks_the_plan(two_channels):
    def top_or_thread(shape, *, channel_id):
        queryset = Message.objects.filter(channel_id=channel_id).order_by("id").values("id", "parent_id")
        return queryset.filter(parent__isnull=shape == "top")

    query = CompiledQuery(top_or_thread)
    top = query.rows(shape="top", channel_id=two_channels[0].pk)
    replies = query.rows(shape="replies", channel_id=two_channels[0].pk)
    assert top and all(row["parent_id"] is None for row in top)
    assert len(replies) == 3 and all(row["parent_id"] is not None for row in replies)
    assert query._plan.cache_info().currsize == 2


def test_a_query_that_matches_nothing_runs_no_sql(two_channels):
    query = CompiledQuery(
        lambda shape, *, channel_id: Message.objects.filter(pk__in=[], channel_id=channel_id).values()
    )
    with CaptureQueriesContext(connection) as captured:
        assert query.rows(channel_id=two_channels[0].pk) == []
    assert len(captured) == 0


def test_compiled_rows_page_like_a_queryset(two_channels):
    """What a paginator does — order_by, filter with a value given as text
    (a cursor's position), a slice — gives the queryset's rows."""

    def base(shape, *, channel_id):
        return Message.objects.filter(channel_id=channel_id, parent__isnull=True).values("id", "created_at")

    rows = CompiledRows(CompiledQuery(CompiledRows.builder(base)), model=Message, channel_id=two_channels[1].pk)
    position = T0 + timedelta(minutes=6, microseconds=42)
    got = rows.order_by("-created_at", "-id").filter(created_at__lt=str(position))[1:4]
    expected = list(
        base((), channel_id=two_channels[1].pk).order_by("-created_at", "-id").filter(created_at__lt=position)[1:4]
    )
    assert got == expected and len(got) == 3
    with pytest.raises(TypeError):
        rows[2:]
