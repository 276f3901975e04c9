"""Serializer fields whose OpenAPI schema states exactly what they accept.

DRF's own fields are lenient in ways a schema cannot express: a ``CharField``
takes numbers, an ``IntegerField`` takes ``"5"``, a ``BooleanField`` takes
``"yes"`` or ``0``. The API's inputs are JSON with the types the schema
promises, so these fields refuse anything else (400), and every text states in
its ``pattern`` what the database can store (no NUL) and, where required, that
it may not be blank.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, ProhibitNullCharactersValidator, RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Ids are bigint columns: anything outside 1..2**63-1 cannot name a row.
MAX_ID = 2**63 - 1

# At least one character that ``str.strip()`` keeps, and no NUL anywhere
# (PostgreSQL text cannot store it). The whitespace set is spelled out: ``\s``
# means different things in Python (which strips \x1c-\x1f and \x85) and in
# ECMA-262, OpenAPI's dialect (which counts \ufeff as whitespace), and a
# client must be able to tell from the pattern what DRF's trim leaves.
PY_WHITESPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028-\u2029\u202f\u205f\u3000"
NOT_BLANK_PATTERN = rf"^[^\u0000]*[^\u0000{PY_WHITESPACE}][^\u0000]*$"
# An optional text: any non-empty text without NUL. drf-spectacular documents a
# blank-allowed field as ``oneOf: [{pattern}, {maxLength: 0}]``, so the
# pattern must not match "" itself, or "" would match both branches.
NO_NUL_PATTERN = r"^[^\u0000]+$"


class StrictCharField(serializers.CharField):
    """Text: only a JSON string; no NUL (``pattern``); no lone surrogates."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        pattern, message = (
            (NO_NUL_PATTERN, "Null characters are not allowed.")
            if self.allow_blank
            else (NOT_BLANK_PATTERN, "This field may not be blank.")
        )
        # The pattern also refuses NUL: DRF's own NUL validator would repeat the message.
        self.validators = [
            validator for validator in self.validators if not isinstance(validator, ProhibitNullCharactersValidator)
        ]
        self.validators.insert(0, RegexValidator(re.compile(pattern), message=message, code="invalid"))

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            # JSON may carry lone UTF-16 surrogates ("\ud800"); no database stores them.
            raise serializers.ValidationError("Invalid unicode: lone surrogate characters.") from None
        # ``maxLength`` in the schema counts what is sent; DRF would count after the trim.
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class NotBlankCharField(StrictCharField):
    """A text that may not be empty or whitespace-only (``minLength`` and ``pattern``)."""

    def __init__(self, **kwargs):
        super().__init__(allow_blank=False, **kwargs)


class OptionalCharField(StrictCharField):
    """A text that may be empty (e.g. a channel topic)."""

    def __init__(self, **kwargs):
        super().__init__(allow_blank=True, **kwargs)


class StrictIntegerField(serializers.IntegerField):
    """An integer: only a JSON number (not ``"5"``, not ``true``)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A boolean: only JSON ``true`` or ``false``."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


# RFC 3339 date-time (OpenAPI ``format: date-time``): an offset is required.
RFC3339_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
RFC3339_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_rfc3339_datetime(value) -> bool:
    return isinstance(value, str) and RFC3339_DATETIME.fullmatch(value) is not None


class StrictDateTimeField(serializers.DateTimeField):
    """An RFC 3339 date-time with its offset (``format: date-time``), stored in UTC.

    DRF alone also takes naive times and other ISO 8601 shapes the schema does
    not promise. A value that cannot be converted to UTC in Python (within a
    day of year 1 or 9999) is a 400 ``Datetime value out of range``.
    """

    def to_internal_value(self, value):
        if not is_rfc3339_datetime(value):
            self.fail("invalid", format="RFC 3339, e.g. 2030-01-31T09:30:00Z")
        return super().to_internal_value(value.upper())


class IdField(StrictIntegerField):
    """An id in a request body: an integer in 1..2**63-1 (``format: int64``)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


_EMAIL = EmailValidator()


@extend_schema_field(
    {
        "type": "string",
        "format": "email",
        "nullable": True,
        "description": "An e-mail address, or null when the person has none.",
    }
)
class EmailOrNullField(serializers.Field):
    """A stored e-mail address as the response schema promises it: a valid
    address (``format: email``) or null.

    ``User.email`` is ``blank=True`` (Django's default): the database holds ""
    for a person without an address, which no ``format: email`` matches. The
    column has no check either, so a value written outside the forms (raw SQL,
    ``create_user(email="junk")``) may not be an address at all: such a value
    is rendered as null too, never as something the schema does not allow.
    """

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        if not value:
            return None
        try:
            _EMAIL(value)
        except ValidationError:
            return None
        return value
