"""Template helpers of the admin's integrity pieces (docs/integrity.md)."""

from django import template

register = template.Library()


@register.filter
def total_count(model_count) -> int:
    """The sum of a delete page's ``model_count`` ((name, count) pairs)."""
    return sum(count for _, count in model_count)
