"""OpenTelemetry traces (workspace/tracing.py; docs/operations.md, "Metrics
and traces"): off unless the OTEL_* variables ask; when on, a request gives a
server span named after its route, its SQL gives client spans in the same
trace (psycopg: PostgreSQL), and the request log line carries the trace id."""

import json
import logging

import pytest
from django.db import connection
from django.test import Client
from knox.models import AuthToken
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from companies.factories import UserFactory
from workspace import tracing
from workspace.tests.test_request_log import request_lines


@pytest.mark.parametrize(
    "env, on",
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "workspace"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_off_by_default_on_with_the_standard_variables(env, on):
    assert tracing.enabled(env) is on


def test_settings_import_does_not_trace():
    # Tests (and manage.py) never call configure_tracing: nothing instrumented.
    assert tracing.current_trace_id is None


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.instrument(provider)
    # A new database connection: psycopg's instrumentation wraps connect().
    connection.close()
    try:
        yield exporter
    finally:
        tracing.uninstrument()
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_request_gives_server_and_sql_spans_and_the_log_carries_the_trace_id(spans, caplog):
    user = UserFactory()
    _, key = AuthToken.objects.create(user=user)
    caplog.set_level(logging.INFO)

    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/me/")

    assert response.status_code == 200
    finished = spans.get_finished_spans()
    [server] = [s for s in finished if s.kind is SpanKind.SERVER]
    assert server.name == "GET api/me/"
    assert server.attributes.get("http.response.status_code", server.attributes.get("http.status_code")) == 200
    trace_id = format(server.context.trace_id, "032x")
    [line] = request_lines(caplog)
    assert line["trace_id"] == trace_id
    if connection.vendor != "postgresql":
        pytest.skip("SQL spans come from the psycopg instrumentation: PostgreSQL only")
    sql = [s for s in finished if s.kind is SpanKind.CLIENT and s.context.trace_id == server.context.trace_id]
    assert sql, [s.name for s in finished]
    assert all(s.parent is not None for s in sql)
    assert any("SELECT" in (s.attributes.get("db.statement") or s.attributes.get("db.query.text") or "") for s in sql)


def test_log_line_has_no_trace_id_when_tracing_is_off(db, caplog):
    caplog.set_level(logging.INFO)
    Client().get("/healthz")
    [line] = [json.loads(json.dumps(line)) for line in request_lines(caplog)]
    assert "trace_id" not in line
