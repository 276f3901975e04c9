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
from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.dispatch import Signal
from django.utils import timezone

from companies.models import CompanyPurge
from workspace.tenancy import tenant_lookup


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
        m for m in apps.get_models(include_auto_created=True) if not m._meta.proxy and m._meta.managed and tenant_lookup(m) is not None
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


def _after_batch(step: Step, rows: list[tuple]) -> None:
    """After a batch of messages: recompute ``last_message_at`` of the
    channels whose newest message may have gone, i.e. those where the batch
    deleted a message at least as new as ``last_message_at``; the others keep
    theirs (their newest message remains). Recomputing every touched channel
    walks, near the end, through the dead tuples of the channel's deleted
    messages, once per batch: the 1 s batches of docs/PERFORMANCE.md."""
    from chat.models import Channel, Message
    from chat.services import channel_recompute_last_message

    if step.model is not Message:
        return
    newest_deleted: dict[int, object] = {}
    for _, channel_id, created_at in rows:
        if channel_id not in newest_deleted or created_at > newest_deleted[channel_id]:
            newest_deleted[channel_id] = created_at
    current = Channel._base_manager.filter(pk__in=newest_deleted).values_list("pk", "last_message_at")
    channel_recompute_last_message(
        channel_ids=[pk for pk, last in current if last is None or newest_deleted[pk] >= last]
    )


def _batch_columns(step: Step) -> tuple[str, ...]:
    from chat.models import Message

    return ("pk", "channel_id", "created_at") if step.model is Message else ("pk",)


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
            rows = list(
                step.queryset(purge.company_id).order_by("pk").values_list(*_batch_columns(step))[:batch_size]
            )
            if not rows:
                continue
            if purge.phase and step.label != purge.phase:
                finished, purge.phase = purge.phase, step.label
                purge.save(update_fields=["heartbeat_at", "phase", "max_batch_ms"])
                return BatchResult(more=True, phase=step.label, rows=0, finished_phase=finished)
            ids = [row[0] for row in rows]
            deleted = step.model._base_manager.filter(pk__in=ids)._raw_delete(connection.alias)
            _after_batch(step, rows)
            purge.phase = step.label
            purge.deleted[step.label] = purge.deleted.get(step.label, 0) + deleted
            purge.batches += 1
            purge.max_batch_ms = max(purge.max_batch_ms, int((time.perf_counter() - started) * 1000))
            purge.save(update_fields=["heartbeat_at", "phase", "deleted", "batches", "max_batch_ms"])
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
# ``CompanyPurge`` record (``purge.deleted``: rows deleted per table). The one
# place where a finished purge (online or one statement) is reported: deletion
# receipts hook here (docs/lifecycle.md).
company_purge_finished = Signal()
