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
