"""django-filter pieces shared by the apps.

A query parameter that is present must be valid: ``?since=`` is a 400, not
"no filter" (only an absent parameter means that), so the schema's types hold
on the wire too.
"""

import re
from datetime import UTC, datetime
from functools import cache

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema_field

from workspace.api.fields import MAX_ID, RFC3339_DATE, is_rfc3339_datetime


class _NotEmpty:
    def clean(self, value):
        # None: the parameter is absent (no filter); "": present but empty.
        if value == "":
            raise ValidationError("This field may not be blank.", code="blank")
        return super().clean(value)


# A positive offset whose "+" was not percent-encoded: in a query string "+"
# means a space (application/x-www-form-urlencoded), so `?since=...T10:00:00+05:00`
# typed as is arrives as "...T10:00:00 05:00". A space is never part of an
# RFC 3339 date-time, so reading it back as "+" is unambiguous.
_PLUS_DECODED_AS_SPACE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?) ([0-9]{2}:[0-9]{2})"
)


class UtcIsoDateTimeField(_NotEmpty, IsoDateTimeField):
    """An RFC 3339 date-time, normalised to UTC.

    Values within a day of the representable range (year 1 with a positive
    offset, year 9999 with a negative one) cannot be converted to UTC in
    Python; as a bound of a range filter they mean "before everything" /
    "after everything", so they are clamped instead of failing. The "+" of an
    offset may arrive as a space (not percent-encoded in the URL).
    """

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, str) and (match := _PLUS_DECODED_AS_SPACE.fullmatch(value)):
            value = f"{match[1]}+{match[2]}"
        if not is_rfc3339_datetime(value):
            raise ValidationError("Enter an RFC 3339 date-time, e.g. 2030-01-31T09:30:00Z.", code="invalid")
        parsed = super().to_python(value.upper())
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            offset = parsed.utcoffset()
            if offset is not None and offset.total_seconds() > 0:
                return datetime.min.replace(tzinfo=UTC)
            return datetime.max.replace(tzinfo=UTC)


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class _DateField(_NotEmpty, forms.DateField):
    input_formats = ["%Y-%m-%d"]

    def to_python(self, value):
        if value not in self.empty_values and not (isinstance(value, str) and RFC3339_DATE.fullmatch(value)):
            raise ValidationError("Enter a date as YYYY-MM-DD.", code="invalid")
        return super().to_python(value)


class DateFilter(django_filters.DateFilter):
    """A ``YYYY-MM-DD`` date (``format: date``)."""

    field_class = _DateField


class _IdField(_NotEmpty, forms.IntegerField):
    pass


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An id in a query string: an integer in 1..2**63-1 (else 400)."""

    field_class = _IdField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@cache
def _form_class(filterset_class: type[django_filters.FilterSet]) -> type[forms.Form]:
    # django-filter builds the form class anew for every filter set (deep
    # copies of every filter and field): the same class each time.
    return filterset_class(queryset=filterset_class._meta.model._default_manager.none()).form.__class__


def apply_filters(filterset_class: type[django_filters.FilterSet], queryset, values: dict):
    """``queryset`` filtered by ``filterset_class``'s own filters with these
    cleaned values (a missing or None one: the parameter is absent), as
    ``DjangoFilterBackend`` filters after validation. For a compiled query's
    builder (workspace/db/compiled.py), where the values are stand-ins."""
    filterset = filterset_class(queryset=queryset)
    filterset.form.cleaned_data = {name: values.get(name) for name in filterset.filters}
    return filterset.filter_queryset(queryset)


def validated_filters(filterset_class: type[django_filters.FilterSet], request) -> dict:
    """The cleaned values of ``filterset_class``'s parameters in the
    request's query string (None for an absent one), validated as
    ``DjangoFilterBackend`` validates them: invalid ones are a 400 with
    field errors. For a view that applies the filters itself (a compiled
    query: workspace/db/compiled.py); the filter set stays the schema."""
    form = _form_class(filterset_class)(request.query_params)
    if not form.is_valid():
        raise translate_validation(form.errors)
    return form.cleaned_data
