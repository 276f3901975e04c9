"""Password hashing never takes every request thread (docs/security.md).

A password check costs a PBKDF2 hash: about 0.3 s of CPU on an idle core, and
seconds on a loaded one. Six logins in parallel used to occupy every gunicorn
thread and push an unrelated ``GET /api/me/`` from ~50 ms to 4-7 s. The login
throttle (``workspace/login_throttle.py``) bounds how many wrong passwords an
attacker gets; this module bounds how many threads of one process may hash at
the same time (``LOGIN_CONCURRENCY``, default 1 per process), so the other
threads keep serving everyone else; and how many may hash on the whole
machine (``LOGIN_MACHINE_CONCURRENCY``, default half the cores, at least
1): gunicorn's workers are separate processes, and 5 workers hashing 5
passwords at once on 2 cores put every other request of the machine behind
(docs/operations.md, "Findings from the load test", 4). The machine-wide
slots are lock files (``flock``, non-blocking) in ``LOGIN_SLOT_DIR``: the
kernel releases a slot when its holder closes it or dies, so a crashed
worker never leaks one.

A login that finds every slot busy is not queued (a queued login would hold
its thread all the same): it is answered at once with 429 and
``Retry-After: 1``, JSON under ``/api/``. It is not counted as a failed login:
a burst of honest logins must not lock anyone out.
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpResponse

from workspace.login_throttle import refusal_response
from workspace.metrics import LOGIN_REFUSED

RETRY_AFTER_SECONDS = 1

_lock = threading.Lock()
_slots: tuple[int, threading.BoundedSemaphore] | None = None


class LoginBusy(Exception):
    """Every password-hashing slot of this process, or of the machine, is taken."""


def slots() -> threading.BoundedSemaphore:
    """The process's semaphore, rebuilt when ``LOGIN_CONCURRENCY`` changes
    (tests change it with ``settings``)."""
    global _slots
    size = max(1, int(getattr(settings, "LOGIN_CONCURRENCY", 1)))
    with _lock:
        if _slots is None or _slots[0] != size:
            _slots = (size, threading.BoundedSemaphore(size))
        return _slots[1]


def machine_slot_count() -> int:
    default = max(1, (os.cpu_count() or 2) // 2)
    return max(1, int(getattr(settings, "LOGIN_MACHINE_CONCURRENCY", None) or default))


def machine_slot_paths() -> list[Path]:
    """The lock files of the machine's hashing slots (created on first use)."""
    directory = Path(settings.LOGIN_SLOT_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return [directory / f"slot-{i}.lock" for i in range(machine_slot_count())]


@contextmanager
def machine_slot():
    """One of the machine's hashing slots, for the duration of the block;
    ``LoginBusy`` at once when every one is held (by any process). A new
    file descriptor each time: ``flock`` locks belong to the open file, so
    two threads sharing one would both "hold" the slot."""
    for path in machine_slot_paths():
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield
        finally:
            os.close(fd)  # releases the lock
        return
    raise LoginBusy


class SlotModelBackend(ModelBackend):
    """Django's ``ModelBackend`` (the one that hashes), inside a slot.

    ``LoginBusy`` is not a ``PermissionDenied``: Django's ``authenticate()``
    lets it through without sending ``user_login_failed``, so the throttle's
    counters do not move, and ``LoginBusyMiddleware`` answers 429."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:  # a shell or a test client's login(): no thread to protect
            return super().authenticate(request, username=username, password=password, **kwargs)
        semaphore = slots()
        if not semaphore.acquire(blocking=False):
            raise LoginBusy
        try:
            with machine_slot():
                return super().authenticate(request, username=username, password=password, **kwargs)
        finally:
            semaphore.release()

    def user_can_authenticate(self, user):
        """Also refuses the people of a deactivated company (docs/lifecycle.md):
        at login, and for a browser session on every request (``get_user``)."""
        if not super().user_can_authenticate(user):
            return False
        if getattr(user, "company_id", None) is None:
            return True
        return user.company.is_active


def busy_response(request) -> HttpResponse:
    LOGIN_REFUSED.labels("busy").inc()
    return refusal_response(
        request,
        title="Busy",
        message="Too many logins in progress; retry in a second.",
        seconds=RETRY_AFTER_SECONDS,
    )


class LoginBusyMiddleware:
    """Turns ``LoginBusy`` from any login view (the API's token view, the
    admin's login form) into a 429."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, LoginBusy):
            return busy_response(request)
        return None
