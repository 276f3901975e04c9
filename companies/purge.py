"""The online purge of a tenant: leaf tables first, in bounded batches, each
batch one short transaction (docs/lifecycle.md "Online purge").

The plan is derived from the models: every model that belongs to a tenant
(``workspace.tenancy.tenant_lookup``) is deleted before the models it points
to (a topological order of the FK graph: reactions before messages, messages
before channels and people, ..., the company row last). A self-referencing
model (a thread reply's ``parent``) is deleted leaves first: a batch takes only
rows that nothing refers to any more. So every batch deletes rows that no
remaining row points at: there is no orphan at any moment, and the database's
``ON DELETE CASCADE`` has nothing left to cascade (a batch stays bounded).

Batches are raw ``DELETE ... WHERE id IN (ids)`` of at most
``COMPANY_PURGE_BATCH_SIZE`` ids: no Django collector, no signals, so no
lifecycle field of another tenant is touched; ``Channel.last_message_at`` of
the purged tenant's channels is recomputed after each batch of messages, so it
stays exact while they still exist. The progress record (``CompanyPurge``) is
updated in the same transaction as the batch: its counts are exact after a
crash, and the next worker continues from what is left in the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.dispatch import Signal
from django.utils import timezone

from companies.hooks import rows_purging
from companies.models import Company, CompanyPurge, DeletionReceipt, User
from companies.receipts import receipt_record
from workspace.db.lineage import tenant_lookup
from workspace.db.receipts import MOD, ReceiptAccumulator, id_sum
from workspace.metrics import COMPANY_PURGE_SECONDS, COMPANY_PURGES


class LeaseLost(Exception):
    """Another worker took this purge over (this one was silent too long)."""


@dataclass(frozen=True)
class Step:
    label: str  # "app_label.Model"
    model: type[models.Model]
    self_fks: tuple[models.ForeignKey, ...]

    def queryset(self, company_id: int):
        lookup = tenant_lookup(self.model)
        qs = self.model._base_manager.filter(**{lookup: company_id})
        for fk in self.self_fks:
            # Leaves first: only rows no other row points at.
            qs = qs.filter(~Exists(self.model._base_manager.filter(**{fk.name: OuterRef("pk")})))
        return qs


@cache
def purge_plan() -> tuple[Step, ...]:
    """Every tenant model, each before the models its FKs point to."""
    tenant_models = [
        m
        for m in apps.get_models(include_auto_created=True)
        if not m._meta.proxy and m._meta.managed and tenant_lookup(m) is not None
    ]
    deps: dict[type, set[type]] = {m: set() for m in tenant_models}
    for m in tenant_models:
        for f in m._meta.concrete_fields:
            if f.is_relation and f.related_model in deps and f.related_model is not m:
                deps[m].add(f.related_model)  # m must go before f.related_model
    # Kahn's algorithm on "referenced by": a model goes when nothing left refers to it.
    referrers = {m: {c for c in tenant_models if m in deps[c]} for m in tenant_models}
    order, done = [], set()
    while len(order) < len(tenant_models):
        ready = sorted(
            (m for m in tenant_models if m not in done and referrers[m] <= done), key=lambda m: m._meta.label
        )
        if not ready:
            raise RuntimeError("Cycle in the tenant FK graph: no leaf-first purge order.")
        for m in ready:
            order.append(m)
            done.add(m)
    return tuple(
        Step(
            label=m._meta.label,
            model=m,
            self_fks=tuple(f for f in m._meta.concrete_fields if f.is_relation and f.related_model is m),
        )
        for m in order
    )


def tenant_row_counts(company_id: int) -> dict[str, int]:
    """Rows per table that the purge of the company deletes (set-based counts)."""
    counts = {}
    for step in purge_plan():
        lookup = tenant_lookup(step.model)
        counts[step.label] = step.model._base_manager.filter(**{lookup: company_id}).count()
    return counts


def renew_lease(*, purge_id: int, owner: str) -> CompanyPurge:
    """Lock the purge record (in the caller's transaction) and check that this
    worker still holds it; renew the heartbeat."""
    purge = CompanyPurge.objects.select_for_update().get(pk=purge_id)
    if purge.lease_owner != owner:
        raise LeaseLost(f"purge {purge_id} is held by {purge.lease_owner!r}")
    purge.heartbeat_at = timezone.now()
    return purge


@dataclass(frozen=True)
class BatchResult:
    more: bool  # False: nothing left, the company row included
    phase: str  # the table of this batch
    rows: int  # rows deleted (0: the batch only moved on to the next table)
    finished_phase: str = ""  # the table this batch found empty for good


def run_batch(*, purge_id: int, owner: str, batch_size: int | None = None, last_batch_ms: int = 0) -> BatchResult:
    """Delete one batch (one short transaction) of the current table.

    When the current table is empty, the batch deletes nothing: it records
    the next table with rows as the phase and reports the finished one
    (``finished_phase``), so that the caller can vacuum it before its parents
    go. ``last_batch_ms``: the duration of the previous batch, commit
    included, folded into ``max_batch_ms``."""
    batch_size = batch_size or settings.COMPANY_PURGE_BATCH_SIZE
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # A batch is short; a stuck lock must not hold it for long either.
                cursor.execute("SET LOCAL statement_timeout = '30s'")
        purge = renew_lease(purge_id=purge_id, owner=owner)
        purge.max_batch_ms = max(purge.max_batch_ms, last_batch_ms)
        plan = purge_plan()
        # The tables before the current one are empty for good (nothing of an
        # inactive tenant is written): start at the current one.
        start = next((i for i, step in enumerate(plan) if step.label == purge.phase), 0)
        for step in plan[start:]:
            rows = list(step.queryset(purge.company_id).order_by("pk").values_list("pk")[:batch_size])
            if not rows:
                continue
            if purge.phase and step.label != purge.phase:
                finished, purge.phase = purge.phase, step.label
                purge.save(update_fields=["heartbeat_at", "phase", "max_batch_ms"])
                return BatchResult(more=True, phase=step.label, rows=0, finished_phase=finished)
            ids = [row[0] for row in rows]
            # The apps above keep derived fields over these rows (chat:
            # last_message_at of the channels losing their newest message):
            # asked before the DELETE, they repair after it, in this batch.
            repairs = [
                repair
                for _, repair in rows_purging.send(sender=step.model, ids=ids, using=connection.alias)
                if repair is not None
            ]
            deleted = step.model._base_manager.filter(pk__in=ids)._raw_delete(connection.alias)
            for repair in repairs:
                repair()
            # The receipt's id checksum, accumulated in the batch's own
            # transaction (workspace/db/receipts.py): resumable like the rest.
            table = step.model._meta.db_table
            count, total = id_sum(ids)
            before_count, before_total = purge.id_sums.get(table, (0, 0))
            purge.id_sums[table] = [before_count + count, (before_total + total) % MOD]
            purge.phase = step.label
            purge.deleted[step.label] = purge.deleted.get(step.label, 0) + deleted
            purge.batches += 1
            purge.max_batch_ms = max(purge.max_batch_ms, int((time.perf_counter() - started) * 1000))
            purge.save(update_fields=["heartbeat_at", "phase", "deleted", "id_sums", "batches", "max_batch_ms"])
            return BatchResult(more=True, phase=step.label, rows=deleted)
        purge.save(update_fields=["heartbeat_at", "max_batch_ms"])
    return BatchResult(more=False, phase=purge.phase, rows=0, finished_phase=purge.phase)


def vacuum_table(label: str) -> None:
    """``VACUUM (ANALYZE)`` the table of ``label`` (PostgreSQL, outside any
    transaction): after its rows are gone and before its parents go, so the
    foreign-key checks of the parents' deletes (e.g. ``chat_message.author_id``
    for each deleted user) do not wade through a million dead tuples, and the
    next batches plan on fresh statistics. It takes no lock that blocks reads
    or writes."""
    if connection.vendor != "postgresql" or connection.in_atomic_block or not label:
        return
    model = apps.get_model(label)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")


class BatchSizer:
    """Rows per batch, adapted to keep each batch near
    ``COMPANY_PURGE_BATCH_TARGET_MS``: a row of some tables costs far more
    than another (a user's delete checks every table that refers to users).
    Starts small on each table and at most doubles per batch; never more than
    ``COMPANY_PURGE_BATCH_SIZE``."""

    def __init__(self, *, maximum: int | None = None, target_ms: float | None = None, first: int = 50):
        self.maximum = maximum or settings.COMPANY_PURGE_BATCH_SIZE
        self.target_ms = target_ms or settings.COMPANY_PURGE_BATCH_TARGET_MS
        self.first = min(first, self.maximum)
        self.size = self.first

    def new_table(self) -> None:
        self.size = self.first

    def observe(self, *, rows: int, ms: float) -> None:
        if rows <= 0:
            return
        per_row = max(ms, 0.1) / rows
        wanted = int(self.target_ms / per_row)
        self.size = max(1, min(self.maximum, 2 * self.size, wanted))


# Sent once per purge, inside the transaction that records its end, with the
# ``CompanyPurge`` record (``purge.deleted``: rows deleted per table), for
# whoever wants to know that a purge finished (online or one statement). The
# deletion receipt is not written here: company_purge writes it with its
# DELETE, _company_purge_finish for an online purge (docs/lifecycle.md).
company_purge_finished = Signal()


# --- The purge: one statement, or online in batches ---------------------------
# (company_purge is also exported by companies.services, where callers look
# for it; it lives here so that the job module (companies/tasks.py) can reach
# the whole purge without importing the services, which enqueue its jobs.)


def company_purge(*, company: Company, actor: User | None = None) -> None:
    """Delete a tenant and everything it owns in one statement.

    Every FK below the company carries ``ON DELETE CASCADE`` / ``SET NULL`` in
    the database (workspace/db/backends), so the database does the cascade at
    its own speed, without Django's collector loading each row into memory.
    Nothing outside the tenant refers to it (tenant consistency), so no
    lifecycle field outside it needs recomputing (docs/delete-policy.md).

    Deleting the company row needs ``FOR UPDATE`` on it, which waits for the
    tenant's writes in flight (each holds the gate of ``lock_tenant``); the
    cascade then cannot deadlock with them.

    A big tenant's cascade may take longer than a web request's
    ``statement_timeout`` (workspace/db/timeouts.py; the admin runs this in a
    request): it is lifted for this transaction only.

    A deletion receipt (kind ``company_purge``) is written in the same
    transaction; it has no foreign key to the company, so it survives it.
    Its id checksums stream every id of the tenant once (one query per
    table): the online purge of a large tenant accumulates them per batch
    instead (``ReceiptAccumulator``).

    Counted and timed (``workspace_company_purges_total{outcome}``,
    ``workspace_company_purge_duration_seconds``; workspace/metrics.py).
    """
    from companies.selectors import company_purge_preview

    started = time.perf_counter()
    outcome = "failed"
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL statement_timeout = 0")
                    # The tenant's writes in flight finish first and later
                    # ones wait (the gate of lock_tenant): the receipt's
                    # counts are exactly what the cascade removes.
                    cursor.execute(
                        f"SELECT 1 FROM {connection.ops.quote_name(Company._meta.db_table)} WHERE id = %s FOR UPDATE",
                        [company.pk],
                    )
            snapshot = Company.objects.filter(pk=company.pk).first()
            if snapshot is None:  # purged already: nothing to delete, no receipt
                outcome = "ok"
                company.pk = None
                return
            impact = company_purge_preview(company=snapshot)
            # One pass: the rows go and their receipt is counted in the same
            # statement (PostgreSQL; workspace/db/impact.py).
            sums, detached = impact.delete_with_sums()
            accumulator = ReceiptAccumulator()
            for table, (count, total) in sums.items():
                accumulator.add_sum(table, count, total)
            for key, count in detached.items():
                accumulator.add_detached(key, count)
            receipt_record(
                kind=DeletionReceipt.Kind.COMPANY_PURGE,
                subject=impact.subject,
                company=snapshot,
                actor=actor,
                accumulator=accumulator,
            )
        outcome = "ok"
    finally:
        COMPANY_PURGE_SECONDS.observe(time.perf_counter() - started)
        COMPANY_PURGES.labels(outcome).inc()
    company.pk = None


def company_purge_claim(*, company_id: int, owner: str, mode: str | None = None) -> CompanyPurge | None:
    """Start (or take over) the purge of a company for worker ``owner``.

    Returns the locked-in purge record, or None when there is nothing for this
    worker to do: cancelled (reactivated), not due yet, finished, or held by
    another worker whose lease is fresh. The first start counts the rows per
    table and picks the mode: a tenant of at most
    ``COMPANY_PURGE_ONLINE_THRESHOLD`` rows goes in one statement."""
    now = timezone.now()
    lease = timedelta(seconds=settings.COMPANY_PURGE_LEASE_SECONDS)
    with transaction.atomic():
        company = Company.objects.select_for_update().filter(pk=company_id).first()
        purge = CompanyPurge.objects.select_for_update().filter(company_id=company_id).first()
        if purge is None or purge.status == CompanyPurge.Status.FINISHED:
            return None
        if company is not None and (company.is_active or purge.scheduled_for > now):
            return None
        held = purge.lease_owner not in ("", owner) and purge.heartbeat_at and purge.heartbeat_at > now - lease
        if held:
            return None
        if purge.status == CompanyPurge.Status.SCHEDULED:
            purge.totals = tenant_row_counts(company_id) if company is not None else {}
            purge.mode = mode or (
                CompanyPurge.Mode.SINGLE
                if sum(purge.totals.values()) <= settings.COMPANY_PURGE_ONLINE_THRESHOLD
                else CompanyPurge.Mode.ONLINE
            )
            purge.status = CompanyPurge.Status.RUNNING
            purge.started_at = now
        purge.lease_owner = owner
        purge.heartbeat_at = now
        purge.save()
    return purge


def _company_purge_finish(
    *, purge_id: int, owner: str, deleted: dict | None = None, last_batch_ms: int = 0
) -> CompanyPurge:
    """Record the end of a purge, and report it (``company_purge_finished``,
    sent inside this transaction: a receiver's writes, e.g. a deletion
    receipt, commit with it or not at all)."""
    with transaction.atomic():
        purge = renew_lease(purge_id=purge_id, owner=owner)
        purge.max_batch_ms = max(purge.max_batch_ms, last_batch_ms)
        if deleted is not None:
            purge.deleted = deleted
        purge.status = CompanyPurge.Status.FINISHED
        purge.finished_at = timezone.now()
        purge.lease_owner = ""
        purge.phase = ""
        purge.save()
        if purge.mode == CompanyPurge.Mode.ONLINE:
            # The one-statement path wrote its receipt in company_purge; the
            # online one accumulated each batch's id checksums in the record.
            _online_purge_receipt(purge)
        company_purge_finished.send(sender=CompanyPurge, purge=purge)
    return purge


def _online_purge_receipt(purge: CompanyPurge) -> DeletionReceipt:
    accumulator = ReceiptAccumulator()
    for table, (count, total) in sorted(purge.id_sums.items()):
        accumulator.add_sum(table, count, total)
    snapshot = Company(pk=purge.company_id, name=purge.company_name, slug=purge.company_slug)
    return receipt_record(
        kind=DeletionReceipt.Kind.COMPANY_PURGE,
        subject=f"company {purge.company_id} ({purge.company_slug}), online purge",
        company=snapshot,
        accumulator=accumulator,
        parameters={"mode": purge.mode, "batches": purge.batches, "requested_by_id": purge.requested_by_id},
    )


def company_purge_run(
    *,
    company_id: int,
    owner: str,
    slice_seconds: float | None = None,
    mode: str | None = None,
    between_batches=None,
) -> CompanyPurge | None:
    """Work on the purge of a company for up to ``slice_seconds`` (None: until
    done). Returns the purge record (``status`` tells whether it finished), or
    None when there was nothing for this worker to do. Resumable at any point:
    the state is the database itself (docs/lifecycle.md)."""
    purge = company_purge_claim(company_id=company_id, owner=owner, mode=mode)
    if purge is None:
        return None
    if purge.mode == CompanyPurge.Mode.SINGLE:
        with transaction.atomic():
            company = Company.objects.filter(pk=company_id).first()
            if company is not None:
                company_purge(company=company)
            return _company_purge_finish(purge_id=purge.pk, owner=owner, deleted=dict(purge.totals))
    deadline = None if slice_seconds is None else time.monotonic() + slice_seconds
    sizer = BatchSizer()
    last_ms = 0
    while True:
        started = time.perf_counter()
        result = run_batch(purge_id=purge.pk, owner=owner, batch_size=sizer.size, last_batch_ms=last_ms)
        last_ms = int((time.perf_counter() - started) * 1000)
        if not result.more:
            break
        if result.finished_phase:
            vacuum_table(result.finished_phase)
            sizer.new_table()
        else:
            sizer.observe(rows=result.rows, ms=last_ms)
        if between_batches is not None and result.rows:
            between_batches(CompanyPurge.objects.get(pk=purge.pk))
        if settings.COMPANY_PURGE_PAUSE_MS:
            # Leave the database (and its CPU) to the other tenants' requests
            # for a moment: a purge is not in a hurry.
            time.sleep(settings.COMPANY_PURGE_PAUSE_MS / 1000)
        if deadline is not None and time.monotonic() >= deadline:
            return CompanyPurge.objects.get(pk=purge.pk)
    return _company_purge_finish(purge_id=purge.pk, owner=owner, last_batch_ms=last_ms)
