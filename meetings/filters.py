"""The meeting list's query parameters (``?since=``, ``?before=``):
validated by the view, applied by ``meetings.rows`` when it compiles the page
query, read by drf-spectacular for the schema."""

import django_filters

from meetings.models import Meeting
from workspace.api.filters import UtcIsoDateTimeFilter


class MeetingFilter(django_filters.FilterSet):
    since = UtcIsoDateTimeFilter(
        field_name="ends_at", lookup_expr="gt", help_text="Meetings still running or to come at this time."
    )
    before = UtcIsoDateTimeFilter(
        field_name="starts_at", lookup_expr="lt", help_text="Meetings that start before this time."
    )

    class Meta:
        model = Meeting
        fields = ["since", "before"]
