"""The building blocks of the named constraints (workspace/db/constraints.py)."""

import sys

import pytest
from django.db.models import Value
from django.db.models.functions import Length

from companies.factories import CompanyFactory
from companies.models import Company
from workspace.db.constraints import WHITESPACE, StripWhitespace


def test_whitespace_is_exactly_what_str_strip_removes():
    assert set(WHITESPACE) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["", "  ", "\n\t\r", " \u00a0\u3000\u2028 ", " a ", "\u3000x\ny\t", "\u200b"])
def test_strip_whitespace_in_the_database_agrees_with_python(text):
    company = CompanyFactory()
    stripped = (
        Company.objects.filter(pk=company.pk)
        .annotate(n=Length(StripWhitespace(Value(text))))
        .values_list("n", flat=True)
        .get()
    )
    assert stripped == len(text.strip())
