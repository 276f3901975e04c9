"""Service errors become HTTP statuses in one place (workspace/api/exceptions.py),
by their codes (workspace/db/writes.py): a view that lets a service's error
through gets the right status and body without translating it."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIRequestFactory

from workspace.api.exceptions import exception_handler
from workspace.db.writes import UNIQUE, Forbidden, conflict, not_found


def handle(exc):
    request = APIRequestFactory().post("/api/anything/")
    response = exception_handler(exc, {"request": request, "view": None})
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (Forbidden("Only the author may edit a message."), (403, {"detail": "Only the author may edit a message."})),
        (ValidationError({"name": ValidationError("Taken.", code=UNIQUE)}), (409, {"name": ["Taken."]})),
        (conflict("You are not checked in.", field="check_out"), (409, {"check_out": ["You are not checked in."]})),
        (
            not_found("You have not reacted with this emoji.", field="emoji"),
            (404, {"detail": "You have not reacted with this emoji."}),
        ),
        (ValidationError({"title": "Blank."}), (400, {"title": ["Blank."]})),
        (ValidationError("Whole body."), (400, {"non_field_errors": ["Whole body."]})),
    ],
    ids=["forbidden", "unique", "conflict", "not_found", "invalid", "non_field"],
)
def test_service_error_codes_map_to_statuses(exc, expected):
    status, data = handle(exc)
    assert (status, {k: (v if isinstance(v, str) else [str(m) for m in v]) for k, v in data.items()}) == expected


def test_no_view_translates_service_errors_or_reads_their_text():
    """The views let service errors through: none catches a Django
    ValidationError, raises its own PermissionDenied, or matches a message."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    views = [*root.glob("*/views.py"), *root.glob("*/views/*.py")]
    assert views
    for path in views:
        text = path.read_text()
        for needle in ("except DjangoValidationError", "except ValidationError", "PermissionDenied(", "message_dict"):
            assert needle not in text, f"{path.relative_to(root)}: {needle}"
