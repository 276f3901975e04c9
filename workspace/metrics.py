"""Prometheus metrics (docs/operations.md, "Metrics and traces").

The official client (``prometheus_client``). Under gunicorn it runs in
multiprocess mode: ``gunicorn.conf.py`` points ``PROMETHEUS_MULTIPROC_DIR`` at
a directory of its own (created and emptied at start, dead workers marked in
``child_exit``), every worker writes its values to memory-mapped files there,
and ``GET /metrics`` on any worker aggregates them all. Without that variable
(``make run``, tests) the values live in the process.

What is measured, with bounded label sets (never a raw path or an id):

- every request: ``workspace_http_requests_total{method,route,status}`` and
  ``workspace_http_request_duration_seconds{method,route}`` (histogram), where
  ``route`` is the URL pattern that matched (``api/channels/<id:pk>/``),
  ``<unmatched>`` for a 404 no pattern matched;
- its database work: ``workspace_db_queries_per_request{route}`` and
  ``workspace_db_query_seconds_per_request{route}`` (histograms; their
  ``_sum`` is the total number of queries / seconds), from one
  ``connection.execute_wrapper`` per request;
- the lifecycle receivers and jobs: ``workspace_last_message_at_touches_total``,
  ``workspace_last_message_at_recomputes_total`` (channels recomputed after
  deletes), ``workspace_last_active_touches_total{source,written}``,
  ``workspace_company_purges_total{outcome}`` and
  ``workspace_company_purge_duration_seconds``;
- ``workspace_login_refused_total{reason}``: 429s of the login throttle
  (``lockout``) and of the password-hashing slots (``busy``).

``/metrics`` is not public: ``Authorization: Bearer <METRICS_TOKEN>``; without
``METRICS_TOKEN`` it is a 404, except with ``DEBUG`` on from a loopback address.
"""

from __future__ import annotations

import hmac
import os
import time

from django.conf import settings
from django.db import connections
from django.http import Http404, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

# --- Requests ----------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "workspace_http_requests",
    "HTTP requests by method, URL route and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "workspace_http_request_duration_seconds",
    "Time to answer a request (the whole middleware stack), by method and URL route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DB_QUERIES = Histogram(
    "workspace_db_queries_per_request",
    "Database queries one request ran, by URL route.",
    ["route"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144),
)
DB_SECONDS = Histogram(
    "workspace_db_query_seconds_per_request",
    "Seconds one request spent in database queries, by URL route.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)

# --- Lifecycle receivers and jobs ---------------------------------------------
LAST_MESSAGE_TOUCHES = Counter(
    "workspace_last_message_at_touches",
    "Channel.last_message_at moved forward by a new message (chat receivers).",
)
LAST_MESSAGE_RECOMPUTES = Counter(
    "workspace_last_message_at_recomputes",
    "Channels whose last_message_at was recomputed after a delete of messages (chat receivers).",
)
LAST_ACTIVE_TOUCHES = Counter(
    "workspace_last_active_touches",
    "User.last_active updates tried (event: post, edit, reaction, RSVP, login, attendance; "
    "request: API activity), and whether a row was written.",
    ["source", "written"],
)
COMPANY_PURGES = Counter(
    "workspace_company_purges",
    "Tenant purges (companies.services.company_purge) by outcome.",
    ["outcome"],
)
COMPANY_PURGE_SECONDS = Histogram(
    "workspace_company_purge_duration_seconds",
    "Duration of a tenant purge, successful or not.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
LOGIN_REFUSED = Counter(
    "workspace_login_refused",
    "Logins refused with 429: lockout (login throttle) or busy (every hashing slot taken).",
    ["reason"],
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"


def route_of(request) -> str:
    """The URL pattern that matched, never the raw path (bounded cardinality)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.route or match.view_name or UNMATCHED


class _QueryMeter:
    """One per request: counts the queries and their time (execute_wrapper)."""

    __slots__ = ("count", "seconds")

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


class MetricsMiddleware:
    """Right after the request log: times the rest of the stack, counts the
    database queries of every alias, and records them under the route."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.aliases = tuple(settings.DATABASES)

    def __call__(self, request):
        meter = _QueryMeter()
        wrapped = []
        for alias in self.aliases:
            wrappers = connections[alias].execute_wrappers
            wrappers.append(meter)
            wrapped.append(wrappers)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            for wrappers in wrapped:
                wrappers.remove(meter)
        elapsed = time.perf_counter() - started
        key = (request.method, route_of(request), response.status_code)
        children = _children.get(key)
        if children is None:
            children = _children_for(key)
        requests, latency, queries, seconds = children
        requests.inc()
        latency.observe(elapsed)
        queries.observe(meter.count)
        seconds.observe(meter.seconds)
        return response


# The labelled children of one (method, route, status), looked up once:
# ``labels()`` validates and locks on every call, a dict read does not. The
# keys are bounded (methods outside the usual ones share "other").
_children: dict[tuple, tuple] = {}


def _children_for(key):
    raw_method, route, status = key
    method = raw_method if raw_method in _METHODS else "other"
    children = (
        HTTP_REQUESTS.labels(method, route, str(status)),
        HTTP_LATENCY.labels(method, route),
        DB_QUERIES.labels(route),
        DB_SECONDS.labels(route),
    )
    if method != "other":  # an odd method is not remembered by its own name
        _children[key] = children
    return children


# --- /metrics ------------------------------------------------------------------
_LOOPBACK = frozenset({"127.0.0.1", "::1"})


def _allowed(request) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    return settings.DEBUG and request.META.get("REMOTE_ADDR") in _LOOPBACK


def registry():
    """The registry to expose: every worker's values in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        aggregated = CollectorRegistry()
        multiprocess.MultiProcessCollector(aggregated)
        return aggregated
    return REGISTRY


def metrics_view(request):
    """``GET /metrics``: Prometheus's text format. A 404 to anyone without the
    token (as if there were no such page): no hint that it exists."""
    if request.method not in ("GET", "HEAD") or not _allowed(request):
        raise Http404
    response = HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
