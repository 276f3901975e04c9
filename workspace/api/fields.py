"""Serializer fields whose OpenAPI schema states exactly what they accept."""

import re

from django.core.validators import RegexValidator
from rest_framework import serializers

# Ids are bigint columns: anything outside 1..2**63-1 cannot name a row.
MAX_ID = 2**63 - 1

# At least one character that is not whitespace, and no NUL anywhere (PostgreSQL
# text cannot store it). Written so that Python's ``re`` and ECMA-262 (the
# OpenAPI ``pattern`` dialect) read it alike; Python's ``\s`` matches exactly
# what ``str.strip()`` removes, so a value matching it is never blank after the
# whitespace trim.
NOT_BLANK_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
not_blank = RegexValidator(
    re.compile(NOT_BLANK_PATTERN), message="This field may not be blank.", code="blank"
)


def reject_surrogates(value: str) -> None:
    # JSON may carry lone UTF-16 surrogates ("\ud800"); no database can store them.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError("Invalid unicode: lone surrogate characters.") from None


def NotBlankCharField(**kwargs) -> serializers.CharField:  # noqa: N802 (a field factory)
    """A required text that may not be blank or whitespace-only (``minLength``
    plus a ``pattern`` in the schema)."""
    kwargs.setdefault("validators", [])
    kwargs["validators"] = [not_blank, reject_surrogates, *kwargs["validators"]]
    return serializers.CharField(allow_blank=False, **kwargs)


def OptionalCharField(**kwargs) -> serializers.CharField:  # noqa: N802
    """A text that may be empty (e.g. a channel topic)."""
    kwargs.setdefault("validators", [])
    kwargs["validators"] = [reject_surrogates, *kwargs["validators"]]
    return serializers.CharField(allow_blank=True, **kwargs)


def IdField(**kwargs) -> serializers.IntegerField:  # noqa: N802
    """An id in a request body: an integer in 1..2**63-1 (``format: int64``)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)
