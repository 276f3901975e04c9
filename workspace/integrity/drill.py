"""The live cascade drill: build a sample tenant (and a bystander tenant),
delete through every path, and measure what is left — all inside one
transaction that is rolled back, so the database is untouched afterwards.

Paths:
- the tenant purge (``companies.services.company_purge``; the admin's delete),
- ``Company.delete()`` (Django's collector and signals),
- a raw SQL ``DELETE`` of the company (psql, a retention job),
- erasure of a person through the service (``user_erase``; the admin's
  delete) and through the ORM (``User.delete()``),
- erasure of a person by raw SQL: the database cascades, but no receiver
  runs, so lifecycle fields go stale — expected and repaired by
  ``integrity_audit --fix``, which the drill then verifies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction

from companies.models import Company, User
from companies.services import company_purge, user_erase
from workspace.db.lineage import tenant_models, tenant_rows
from workspace.db.writes import delete_cascading
from workspace.integrity.audit import find_orphans, find_stale_lifecycle, fix_stale_lifecycle
from workspace.integrity.sample import build_populated_tenant, diff_snapshots, snapshot_tenant_rows


@dataclass
class DrillResult:
    path: str
    rows_before: int = 0
    rows_left: int = 0
    orphans: int = 0
    bystander_changes: int = 0
    stale_lifecycle: int = 0
    stale_expected: bool = False
    repaired: bool | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        if self.error or self.rows_left or self.orphans or self.bystander_changes:
            return False
        if self.stale_lifecycle:
            return self.stale_expected and bool(self.repaired)
        return True

    @property
    def outcome(self) -> str:
        if self.error:
            return f"FAIL: {self.error}"
        if not self.passed:
            return "FAIL"
        if self.stale_lifecycle:
            return "PASS (stale lifecycle expected: raw SQL runs no receiver; integrity_audit --fix repaired it)"
        return "PASS"


def _tenant_pks(company_id: int) -> dict[type, list]:
    return {model: list(tenant_rows(model, company_id).values_list("pk", flat=True)) for model in tenant_models()}


def _rows_left(pks: dict[type, list]) -> int:
    return sum(model._base_manager.filter(pk__in=ids).count() for model, ids in pks.items() if ids)


def _count(pks: dict[type, list]) -> int:
    return sum(len(ids) for ids in pks.values())


def _user_pks(user) -> dict[type, list]:
    """Rows that erasing ``user`` removes: the user and everything that
    cascades from it (messages, their replies and reactions, memberships...)."""
    from django.contrib.admin.utils import NestedObjects

    collector = NestedObjects(using=connection.alias)
    collector.collect([user])
    return {model: [obj.pk for obj in objs] for model, objs in collector.model_objs.items()}


def run_drill() -> list[DrillResult]:
    results: list[DrillResult] = []

    with transaction.atomic():
        # Fresh slugs and usernames (``tenant-<n>``): never a real tenant's
        # rows; no password hashing (unusable passwords).
        victim = build_populated_tenant(password=None)
        bystander = build_populated_tenant(password=None)
        # The person whose messages are the newest somewhere: erasing them
        # must move that channel's last_message_at back.
        author = User.objects.get(pk=victim.replies[-1].author_id)

        company_paths: list[tuple[str, Callable[[Company], None]]] = [
            ("company_purge(company=...) (service; admin delete)", lambda c: company_purge(company=c)),
            ("Company.delete() (ORM collector, signals)", lambda c: c.delete()),
            ("raw SQL DELETE FROM companies_company", lambda c: delete_cascading(Company, c.pk)),
        ]
        user_paths: list[tuple[str, Callable[[User], None], bool]] = [
            ("user_erase(user=...) of an author (service; admin delete)", lambda u: user_erase(user=u), False),
            ("User.delete() of an author (ORM erasure)", lambda u: u.delete(), False),
            ("raw SQL DELETE FROM companies_user (an author)", lambda u: delete_cascading(User, u.pk), True),
        ]

        def measure(path, pks, action, stale_expected=False):
            result = DrillResult(path=path, rows_before=_count(pks), stale_expected=stale_expected)
            bystander_before = snapshot_tenant_rows(bystander.company)
            savepoint = transaction.savepoint_create()
            try:
                action()
                result.rows_left = _rows_left(pks)
                result.orphans = sum(f.count for f in find_orphans())
                result.bystander_changes = len(
                    diff_snapshots(bystander_before, snapshot_tenant_rows(bystander.company))
                )
                stale = find_stale_lifecycle()
                result.stale_lifecycle = sum(f.count for f in stale)
                if stale:
                    fix_stale_lifecycle()
                    result.repaired = not find_stale_lifecycle()
            except Exception as exc:  # reported, never raised: the drill must finish
                result.error = f"{type(exc).__name__}: {exc}"
            finally:
                transaction.savepoint_rollback(savepoint)
            results.append(result)

        company_pks = _tenant_pks(victim.company.pk)
        for path, action in company_paths:
            company = Company.objects.get(pk=victim.company.pk)
            measure(path, company_pks, lambda: action(company))
        user_pks = _user_pks(author)
        for path, action, stale_expected in user_paths:
            user = User.objects.get(pk=author.pk)
            measure(path, user_pks, lambda: action(user), stale_expected)

        transaction.set_rollback(True)
    return results
