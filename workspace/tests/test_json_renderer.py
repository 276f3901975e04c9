"""The API's JSON renderer (workspace/api/renderers.py): orjson writes the
same bytes as DRF's ``JSONRenderer`` for whatever the API returns."""

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from workspace.api.renderers import JSONRenderer

PLUS_FIVE = timezone(timedelta(hours=5, minutes=30))

CASES = {
    "page": {
        "next": "http://testserver/api/channels/1/messages/?cursor=cD0yMDI0",
        "previous": None,
        "results": [
            {"id": 1, "body": "héllo “quotes” \\ / \n\t\u0001 😀", "reply_count": 0, "reactions": []},
            {"id": 2**62, "is_private": False, "created_at": "2024-03-01T12:00:00.120000Z", "topic": ""},
        ],
    },
    "line separators": {"body": "a\u2028b\u2029c"},
    "lazy text": {"detail": gettext_lazy("Not found.")},
    "decimal": {"amount": Decimal("12.50")},
    "date-times": [
        datetime(2024, 3, 1, 12, 0, tzinfo=UTC),
        datetime(2024, 3, 1, 12, 0, 0, 120000, tzinfo=UTC),
        datetime(2024, 3, 1, 12, 0, 0, 7, tzinfo=PLUS_FIVE),
        datetime(2024, 3, 1, 12, 0),
        date(2024, 3, 1),
        time(9, 30, 0, 5),
    ],
    "uuid": {"id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    "integer keys": {1: "a", "b": {2: [3]}},
    "floats": {"x": 0.1, "y": 1e300, "z": -0.0},
    "empty": {},
}


@pytest.mark.parametrize("name", CASES)
def test_same_bytes_as_drf(name):
    data = CASES[name]
    assert JSONRenderer().render(data, "application/json") == DRFJSONRenderer().render(data, "application/json")


def test_nothing_renders_as_an_empty_body():
    assert JSONRenderer().render(None) == b""


def test_indented_output_on_request_is_drf_s():
    data = CASES["page"]
    media = "application/json; indent=4"
    assert JSONRenderer().render(data, media) == DRFJSONRenderer().render(data, media)
    assert b"\n    " in JSONRenderer().render(data, media)


def test_the_api_answers_with_it(client_for, people):
    response = client_for(people["alice"]).get("/api/channels/")
    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, JSONRenderer)
