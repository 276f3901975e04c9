"""The message list's query parameters (``?parent=``, ``?since=``,
``?before=``): validated by the view, applied by ``chat.rows`` when it
compiles the page query, read by drf-spectacular for the schema."""

import django_filters

from chat.models import Message
from workspace.api.filters import IdFilter, UtcIsoDateTimeFilter


class MessageFilter(django_filters.FilterSet):
    parent = IdFilter(
        method="filter_parent",
        help_text="The replies in the thread of this message (without it: top-level messages only).",
    )
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", help_text="Posted at or after.")
    before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", help_text="Posted strictly before.")

    class Meta:
        model = Message
        fields = ["parent", "since", "before"]

    def filter_parent(self, queryset, name, value):
        return queryset.filter(parent_id=value)

    def filter_queryset(self, queryset):
        if self.form.cleaned_data.get("parent") is None:
            queryset = queryset.filter(parent__isnull=True)
        return super().filter_queryset(queryset)
