"""manage.py integrity_report: the committed report is current, --check
catches a stale one, the lineage names every model, the drill passes."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from workspace.integrity import report
from workspace.db.lineage import cascade_paths, tenant_models


def run(*args):
    out = StringIO()
    try:
        call_command("integrity_report", *args, stdout=out, stderr=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_committed_report_is_up_to_date_with_the_models():
    status, out = run("--check")
    assert status == 0, out


def test_check_fails_on_a_stale_report(tmp_path):
    stale = tmp_path / "report.md"
    text = report.REPORT_PATH.read_text()
    stale.write_text(text.replace("`--[CASCADE] (company_id, meeting_id)", "`--[SET NULL] (company_id, meeting_id)", 1))
    status, out = run("--check", "--output", str(stale))
    assert status == 1
    assert "section 'lineage' is out of date" in out and "+|   `--[CASCADE] (company_id, meeting_id)" in out


def test_check_fails_on_a_missing_section_or_file(tmp_path):
    path = tmp_path / "report.md"
    assert run("--check", "--output", str(path))[0] == 1
    text = report.REPORT_PATH.read_text()
    start = text.index("<!-- BEGIN deterministic: constraints -->")
    end = text.index("<!-- END deterministic: constraints -->") + len("<!-- END deterministic: constraints -->")
    path.write_text(text[:start] + text[end:])
    status, out = run("--check", "--output", str(path))
    assert status == 1 and "'constraints' is missing" in out


# Records with no FK to the tenant, kept after its purge (docs/lifecycle.md).
OUTLIVE_THE_TENANT = {"companies.CompanyPurge", "companies.DeletionReceipt"}  # no FK on purpose


def test_lineage_names_every_model():
    diagram = report.lineage_diagram()
    for app in ("companies", "chat", "meetings"):
        for model in apps.get_app_config(app).get_models():
            if model._meta.label in OUTLIVE_THE_TENANT:
                assert model._meta.db_table not in diagram, model._meta.label
                continue
            assert model._meta.db_table in diagram, model._meta.label
    for model in tenant_models():
        assert f"({model._meta.label})" in diagram  # drawn (expanded) once
        assert diagram.count(f"({model._meta.label})") == 1


def test_lineage_edges_carry_the_delete_action():
    diagram = report.lineage_diagram()
    # composite tenant keys are drawn with both columns
    assert "[SET NULL] (company_id, created_by_id) --> chat_channel" in diagram
    assert "[SET NULL] (company_id, channel_id) --> meetings_meeting" in diagram
    assert "[CASCADE] (company_id, author_id) --> chat_message" in diagram
    assert "[CASCADE] company_id --> chat_message" in diagram


def test_every_tenant_table_is_reachable_by_a_company_delete():
    for model in tenant_models():
        assert cascade_paths(model), model._meta.label
    from chat.models import MessageReaction

    assert set(cascade_paths(MessageReaction)) == {
        "company",  # the tenant key
        "message__company",
        "user__company",
        "message__author__company",
        "message__channel__company",
    }


def test_constraints_section_lists_every_declared_constraint():
    section = report.constraints_section()
    for model in tenant_models():
        for constraint in model._meta.constraints:
            assert f"`{constraint.name}`" in section


@pytest.mark.django_db(transaction=True)
def test_generated_report_has_every_section_and_a_passing_drill(tmp_path):
    from companies.models import Company, User

    rows_before = Company.objects.count(), User.objects.count()
    path = tmp_path / "report.md"
    status, out = run("--output", str(path))
    assert status == 0, out
    text = path.read_text()
    for heading in (
        "## Summary",
        "## Lineage",
        "## Delete policy",
        "### Database FK actions (live)",
        "## Constraints",
        "### Constraints in the live database",
        "## Cascade drill",
        "## Integrity audit (live database)",
        "## Remaining issues",
    ):
        assert heading in text
    assert "DRIFT" not in text and "MISSING" not in text and "FAIL" not in text
    assert "Cascade drill: **6/6** paths passed" in text
    # The drill ran in a rolled-back transaction: it left nothing behind.
    assert (Company.objects.count(), User.objects.count()) == rows_before
    # A regenerated report passes its own check.
    assert run("--check", "--output", str(path))[0] == 0


@pytest.mark.postgres
def test_drill_fails_when_the_database_does_not_cascade(db):
    from workspace.integrity.drill import run_drill

    from workspace.db.introspection import db_fk_actions

    connection.check_constraints()
    (fk,) = db_fk_actions()[("chat_message", "author_id")]
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE chat_message DROP CONSTRAINT "{fk.name}"')
        cursor.execute(
            f'ALTER TABLE chat_message ADD CONSTRAINT "{fk.name}" FOREIGN KEY (author_id) '
            "REFERENCES companies_user (id) DEFERRABLE INITIALLY DEFERRED"
        )
    results = {r.path: r for r in run_drill()}
    raw_user = next(r for p, r in results.items() if p.startswith("raw SQL DELETE FROM companies_user"))
    assert not raw_user.passed and raw_user.rows_left > 0
    orm = next(r for p, r in results.items() if p.startswith("Company.delete()"))
    assert orm.passed  # Django's collector does not depend on the database action
