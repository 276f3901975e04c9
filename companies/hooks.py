"""Hooks through which ``companies`` asks the apps above it (docs/architecture.md,
"Layers") without importing them. The apps connect their receivers in
``<app>/signals.py``, imported by their ``AppConfig.ready()``.
"""

from django.dispatch import Signal

#: Sent by ``companies.services.user_erase`` inside its transaction, with the
#: person's row locked, right before the one ``DELETE`` that cascades to every
#: row they own (``sender=User``, ``user=<User>``, ``using=<alias>``). An app
#: that keeps derived fields over those rows (chat: ``Channel.last_message_at``
#: of the channels losing messages) reads what it needs and returns a callable
#: that repairs them; ``user_erase`` calls it after the ``DELETE``, in the same
#: transaction. A receiver that raises aborts the erasure.
user_erasing = Signal()

#: Sent by the online tenant purge (companies/purge.py) inside each batch's
#: transaction, right before the ``DELETE`` of ``ids`` of ``sender`` (a model;
#: ``using=<alias>``). Like ``user_erasing``, a receiver that keeps derived
#: fields over those rows returns a callable that repairs them after the
#: ``DELETE``, in the same transaction.
rows_purging = Signal()


# --- The retention preview ----------------------------------------------------
# Retention deletes messages (chat), but the company's settings (admin, API)
# show what the next run would delete: chat provides the computation here
# from its AppConfig.ready().

_retention_preview = None


def provide_retention_preview(func) -> None:
    """``func(*, company, days=None, now=None) -> Impact | None`` (chat)."""
    global _retention_preview
    _retention_preview = func


def retention_preview(*, company, days: int | None = None, now=None):
    """What the next retention run would delete (None: retention is off)."""
    if _retention_preview is None:  # pragma: no cover - chat is always installed
        raise RuntimeError("No app provides the retention preview (chat's AppConfig.ready() does).")
    return _retention_preview(company=company, days=days, now=now)
