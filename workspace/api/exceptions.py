"""Error handling of the API: every error is a JSON 4xx, never a 500.

DRF handles its own exceptions; this handler adds what the services and the
database raise. It is the ONE place where a service's refusal becomes an HTTP
status, by the codes the services give (workspace/db/writes.py); views do not
catch service errors to translate them:

- ``Forbidden`` (a service's permission rule, code ``forbidden``) -> 403
  ``{"detail": ...}``.
- ``django.core.exceptions.ValidationError`` (services, ``full_clean``) -> 400
  with field errors (``__all__`` becomes ``non_field_errors``); 409 with the
  same field errors when a message is coded ``unique`` (a duplicate) or
  ``conflict`` (the current state refuses it); 404 ``{"detail": ...}`` when
  coded ``not_found`` (the row to act on is not there).
- ``IntegrityError`` (a constraint the database refused, typically a race the
  Python checks could not see) -> 409 ``{"detail": ...}``.
- ``DataError`` (a value the database cannot store) -> 400 ``{"detail": ...}``.
- ``ObjectDoesNotExist`` / ``ObjectNotUpdated`` (the object was deleted by
  someone else between our read and our write) -> 404, as if it had been gone
  before the request.
- What is not a bug but the client's or the infrastructure's doing
  (``workspace.errors.classify``): a body nested too deeply -> 400, a body
  over the upload limit -> 413, the database unavailable or a lock/statement
  timeout -> 503 with ``Retry-After``; logged as one warning line.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ObjectNotUpdated
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from workspace import errors
from workspace.db.writes import CONFLICT_CODES, NOT_FOUND, Forbidden, error_codes


class BadRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Malformed request."
    default_code = "bad_request"


class Conflict(exceptions.APIException):
    """409: the request is well formed but conflicts with the current state
    (a duplicate, a second check-in, a check-out with none open...)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def error_dict(exc: DjangoValidationError, *, rename: dict[str, str] | None = None) -> dict | list:
    """A Django ``ValidationError`` as DRF's error shape: ``{field: [messages]}``."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: list(exc.messages)}
    rename = {NON_FIELD_ERRORS: api_settings.NON_FIELD_ERRORS_KEY, **(rename or {})}
    result: dict[str, list[str]] = {}
    for field, messages in exc.message_dict.items():
        result.setdefault(rename.get(field, field), []).extend(messages)
    return result


def api_error(exc: DjangoValidationError) -> exceptions.APIException:
    """A service's ``ValidationError`` as the API's error, by its codes."""
    codes = error_codes(exc)
    if NOT_FOUND in codes:
        return exceptions.NotFound(exc.messages[0])
    if codes & CONFLICT_CODES:
        return Conflict(error_dict(exc))
    return exceptions.ValidationError(error_dict(exc))


def bad_request(exc: DjangoValidationError, *, rename: dict[str, str] | None = None):
    return exceptions.ValidationError(error_dict(exc, rename=rename))


def exception_handler(exc, context):
    if isinstance(exc, Forbidden):
        exc = exceptions.PermissionDenied(exc.message)
    elif isinstance(exc, DjangoValidationError):
        exc = api_error(exc)
    elif isinstance(exc, ObjectDoesNotExist | ObjectNotUpdated):
        exc = exceptions.NotFound("Not found (deleted meanwhile).")
    elif isinstance(exc, IntegrityError):
        exc = Conflict("The request conflicts with data that changed meanwhile; reload and retry.")
    elif isinstance(exc, DataError):
        exc = BadRequest("A value cannot be stored (out of range or malformed).")
    elif (found := errors.classify(exc)) is not None:
        status_code, detail = found
        errors.log_one_line(context["request"], status_code, exc)
        headers = {"Retry-After": errors.retry_after()} if status_code == 503 else None
        return errors.mark_logged(Response({"detail": detail}, status=status_code, headers=headers))
    return drf_exception_handler(exc, context)
