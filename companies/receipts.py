"""Deletion receipts (docs/lifecycle.md, "Deletion receipts"): the one write
path of ``DeletionReceipt``, used by every delete that proves itself (user
erasure, channel delete, retention batches, tenant purge). The checksum
arithmetic is the kit's (workspace/db/receipts.py)."""

from datetime import datetime

from django.utils import timezone

from companies.models import Company, DeletionReceipt, User
from workspace.db.receipts import ReceiptAccumulator


def receipt_record(
    *,
    kind: str,
    subject: str,
    company: Company | None = None,
    company_id: int | None = None,
    actor: User | None = None,
    accumulator: ReceiptAccumulator,
    run=None,
    batch: int | None = None,
    parameters: dict | None = None,
    at: datetime | None = None,
) -> DeletionReceipt:
    """Append a receipt for a delete, from the counts and id checksums an
    accumulator gathered. Call it inside the delete's own transaction: the
    receipt commits (or rolls back) with the delete it proves.

    ``company`` is snapshotted (id, name, slug: no foreign key, so the receipt
    survives the company's purge); ``company_id`` alone when the row is
    already gone. ``actor`` likewise (id and username); None: the system (a
    scheduled run).
    """
    if company is not None:
        company_id, name, slug = company.pk, company.name, company.slug
    else:
        name = slug = ""
        if company_id is not None:
            row = Company.objects.filter(pk=company_id).values_list("name", "slug").first()
            name, slug = row if row else ("", "")
    receipt = DeletionReceipt(
        kind=kind,
        subject=subject,
        company_id=company_id,
        company_name=name,
        company_slug=slug,
        actor_id=getattr(actor, "pk", None),
        actor_username=getattr(actor, "username", "") or "",
        run=run,
        batch=batch,
        parameters=parameters or {},
        created_at=at or timezone.now(),
        **accumulator.receipt_fields(),
    )
    receipt.full_clean()
    receipt.save()
    return receipt
