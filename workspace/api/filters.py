"""django-filter pieces shared by the apps."""

from datetime import UTC, datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from workspace.api.fields import MAX_ID


class UtcIsoDateTimeField(IsoDateTimeField):
    """An RFC 3339 date-time, normalised to UTC.

    Values within a day of the representable range (year 1 with a positive
    offset, year 9999 with a negative one) cannot be converted to UTC in
    Python; as a bound of a range filter they mean "before everything" /
    "after everything", so they are clamped instead of failing.
    """

    def strptime(self, value, format):
        parsed = super().strptime(value, format)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            offset = parsed.utcoffset()
            if offset is not None and offset.total_seconds() > 0:
                return datetime.min.replace(tzinfo=UTC)
            return datetime.max.replace(tzinfo=UTC)


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An id in a query string: an integer in 1..2**63-1 (else 400)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
