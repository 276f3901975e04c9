"""OpenTelemetry traces of requests and SQL (docs/operations.md, "Metrics and
traces"). Off by default; on when the standard variables ask for it:

- ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` set
  (OTLP over HTTP/protobuf to that collector), or
- ``OTEL_TRACES_EXPORTER`` set to ``otlp`` or ``console`` (``none``: off),

and never with ``OTEL_SDK_DISABLED=true``. The SDK reads the rest itself
(``OTEL_SERVICE_NAME``, default ``workspace``; ``OTEL_RESOURCE_ATTRIBUTES``;
``OTEL_TRACES_SAMPLER``/``_ARG``; ``OTEL_EXPORTER_OTLP_HEADERS``, ...).

``configure_tracing()`` runs in each gunicorn worker (``post_fork``) and from
``workspace/wsgi.py``, before Django builds its middleware chain: never at
settings import, so ``manage.py`` commands and tests do not trace. It
instruments Django (a server span per request, named after the route) and
psycopg (a span per SQL statement), and makes the request log carry the trace
id (``workspace/request_log.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

# Set while tracing is on: returns the current trace id (32 hex digits) or None.
current_trace_id: Callable[[], str | None] | None = None

_configured = False


def enabled(env: Mapping[str, str] = os.environ) -> bool:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def _trace_id() -> str | None:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def instrument(tracer_provider) -> None:
    """Instrument Django and psycopg with ``tracer_provider`` (the tests pass
    one with an in-memory exporter)."""
    global current_trace_id
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workspace.settings")
    DjangoInstrumentor().instrument(tracer_provider=tracer_provider)
    # No SQL comments appended to the statements (pg_stat_statements keeps
    # grouping them); the span carries the statement.
    PsycopgInstrumentor().instrument(tracer_provider=tracer_provider, enable_commenter=False)
    current_trace_id = _trace_id


def uninstrument() -> None:
    global current_trace_id
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    DjangoInstrumentor().uninstrument()
    PsycopgInstrumentor().uninstrument()
    current_trace_id = None


def configure_tracing(env: Mapping[str, str] = os.environ) -> bool:
    """Start tracing when the environment asks for it; idempotent. Returns
    whether tracing is on."""
    global _configured
    if _configured:
        return current_trace_id is not None
    _configured = True
    if not enabled(env):
        return False

    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or "workspace"})
    provider = TracerProvider(resource=resource)
    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    instrument(provider)
    return True
