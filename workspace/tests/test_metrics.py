"""Prometheus metrics at /metrics (workspace/metrics.py; docs/operations.md,
"Metrics and traces"): the counters move with the traffic, labelled by route
(never the raw path), and the page is refused without the token."""

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from knox.models import AuthToken
from prometheus_client.parser import text_string_to_metric_families

from chat.factories import ChannelFactory, ChannelMembershipFactory, MessageFactory
from chat.services import message_delete
from companies.factories import CompanyFactory, UserFactory
from companies.services import company_purge

pytestmark = pytest.mark.django_db

METRICS_TOKEN = "metrics-test-token-0123456789"


def scrape(client=None) -> dict[tuple, float]:
    """Every sample of /metrics, keyed by (name, sorted labels)."""
    client = client or Client()
    with override_settings(METRICS_TOKEN=METRICS_TOKEN):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def member():
    user = UserFactory()
    channel = ChannelFactory(company=user.company)
    ChannelMembershipFactory(channel=channel, user=user)
    _, key = AuthToken.objects.create(user=user)
    return user, channel, Client(HTTP_AUTHORIZATION=f"Token {key}")


def test_requests_queries_and_lifecycle_counters_move(member):
    user, channel, client = member
    route = "api/channels/<id:pk>/messages/"
    before = scrape()

    for _ in range(3):
        assert client.get(f"/api/channels/{channel.pk}/messages/").status_code == 200
    response = client.post(
        f"/api/channels/{channel.pk}/messages/", {"body": "hello metrics"}, content_type="application/json"
    )
    assert response.status_code == 201
    after = scrape()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    # By route (the URL pattern), method and status; never the raw path.
    assert moved("workspace_http_requests_total", method="GET", route=route, status="200") == 3
    assert moved("workspace_http_requests_total", method="POST", route=route, status="201") == 1
    assert not any(str(channel.pk) in dict(labels).get("route", "") for _, labels in after)
    assert moved("workspace_http_request_duration_seconds_count", method="GET", route=route) == 3
    # Database work of those requests: four observations, several queries each.
    assert moved("workspace_db_queries_per_request_count", route=route) == 4
    assert moved("workspace_db_queries_per_request_sum", route=route) >= 4
    assert moved("workspace_db_query_seconds_per_request_sum", route=route) > 0
    # The receivers: last_message_at moved forward, the author's last_active touched.
    assert moved("workspace_last_message_at_touches_total") == 1
    assert moved("workspace_last_active_touches_total", source="event", written="true") == 1
    # The scrape itself is a request like any other.
    assert value(after, "workspace_http_requests_total", method="GET", route="metrics", status="200") >= 1


def test_recompute_purge_and_unmatched_route_are_counted(member):
    user, channel, client = member
    message = MessageFactory(channel=channel, author=user)
    doomed = CompanyFactory()
    before = scrape()

    message_delete(message=message)
    company_purge(company=doomed)
    assert Client().get("/no/such/page/at/all/").status_code == 404
    after = scrape()

    assert (
        value(after, "workspace_last_message_at_recomputes_total")
        - value(before, "workspace_last_message_at_recomputes_total")
        == 1
    )
    assert (
        value(after, "workspace_company_purges_total", outcome="ok")
        - value(before, "workspace_company_purges_total", outcome="ok")
        == 1
    )
    assert (
        value(after, "workspace_company_purge_duration_seconds_count")
        - value(before, "workspace_company_purge_duration_seconds_count")
        == 1
    )
    assert (
        value(after, "workspace_http_requests_total", method="GET", route="<unmatched>", status="404")
        - value(before, "workspace_http_requests_total", method="GET", route="<unmatched>", status="404")
        == 1
    )


@override_settings(LOGIN_FAILURE_LIMIT=2, AXES_FAILURE_LIMIT=2)
def test_login_lockout_is_counted():
    caches["default"].clear()
    user = UserFactory(password="right-password-123")
    before = scrape()
    statuses = [
        Client()
        .post("/api/auth/token/", {"username": user.username, "password": "wrong"}, content_type="application/json")
        .status_code
        for _ in range(3)
    ]
    after = scrape()
    assert statuses[-1] == 429
    refused = value(after, "workspace_login_refused_total", reason="lockout") - value(
        before, "workspace_login_refused_total", reason="lockout"
    )
    assert refused == statuses.count(429)


def test_metrics_refused_without_the_token(client):
    with override_settings(METRICS_TOKEN=METRICS_TOKEN, DEBUG=False):
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
        assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {METRICS_TOKEN}").status_code == 404
        assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").status_code == 200
    # No token configured: refused in production, even from loopback.
    with override_settings(METRICS_TOKEN="", DEBUG=False):
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    # ... and in development only from loopback.
    with override_settings(METRICS_TOKEN="", DEBUG=True):
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 404
