"""Password hashing never takes every thread (workspace/login_slots.py): a
login that finds the process's hashing slots busy gets 429 + Retry-After at
once, is not counted as a failed login, and the threads stay free for
everyone else."""

import threading
import time

import pytest
from django.contrib.auth.backends import ModelBackend
from django.test import Client
from rest_framework.test import APIClient

from companies.factories import UserFactory
from workspace import login_slots

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass"


@pytest.fixture
def ada():
    return UserFactory(username="ada", password=PASSWORD)


def api_login(password=PASSWORD):
    return APIClient().post(
        "/api/auth/token/", {"username": "ada", "password": password}, format="json", REMOTE_ADDR="10.0.0.9"
    )


@pytest.fixture
def busy(settings):
    """Every slot of this process taken, as by logins hashing in other threads."""
    settings.LOGIN_CONCURRENCY = 1
    semaphore = login_slots.slots()
    assert semaphore.acquire(blocking=False)
    yield
    semaphore.release()


def test_a_login_while_every_slot_hashes_is_a_429_with_retry_after(ada, busy):
    response = api_login()
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    assert response["Content-Type"].startswith("application/json")
    assert "retry" in response.json()["detail"]


def test_the_admin_login_is_refused_the_same_way(ada, busy):
    response = Client().post("/admin/login/?next=/admin/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 429
    assert response["Retry-After"] == "1"


def test_a_busy_refusal_is_not_a_failed_login(ada, settings):
    # With a limit of 1, one counted failure would lock ada out.
    settings.AXES_FAILURE_LIMIT = settings.LOGIN_FAILURE_LIMIT = 1
    settings.LOGIN_CONCURRENCY = 1
    semaphore = login_slots.slots()
    semaphore.acquire()
    try:
        assert api_login().status_code == 429
        assert api_login().status_code == 429
    finally:
        semaphore.release()
    response = api_login()
    assert response.status_code == 200, response.content
    assert response.json()["token"]


def test_slots_follow_the_setting(ada, settings):
    settings.LOGIN_CONCURRENCY = 2
    semaphore = login_slots.slots()
    assert semaphore.acquire(blocking=False)  # one of two taken: a login still gets the other
    try:
        assert api_login().status_code == 200
    finally:
        semaphore.release()


@pytest.mark.postgres  # two threads, two connections: SQLite's test database locks
@pytest.mark.django_db(transaction=True)
def test_a_slow_hash_in_one_thread_refuses_a_second_login_at_once(ada, settings, monkeypatch):
    """Real threads: while one login is inside the password check, a second
    one is answered 429 without waiting for it."""
    settings.LOGIN_CONCURRENCY = 1
    inside, release = threading.Event(), threading.Event()
    real = ModelBackend.authenticate

    def slow(self, request, **kwargs):
        inside.set()
        release.wait(10)
        return real(self, request, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", slow)
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", api_login().status_code))
    first.start()
    try:
        assert inside.wait(10)
        started = time.monotonic()
        second = api_login()
        elapsed = time.monotonic() - started
    finally:
        release.set()
        first.join(10)
    assert second.status_code == 429
    assert elapsed < 5  # answered at once, not after the first login (which waits up to 10 s)
    assert results["first"] == 200


HOLD_SLOT = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def slot_held_by_another_process(settings):
    """The machine's only hashing slot, held by another process (as by a
    login hashing in another gunicorn worker)."""
    import subprocess
    import sys

    settings.LOGIN_MACHINE_CONCURRENCY = 1
    [path] = login_slots.machine_slot_paths()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SLOT, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    yield holder
    if holder.poll() is None:
        holder.kill()
    holder.wait()


def test_a_login_while_another_process_hashes_is_a_429(ada, settings, slot_held_by_another_process):
    settings.LOGIN_CONCURRENCY = 4  # this process has slots to spare: the machine has none
    response = api_login()
    assert response.status_code == 429
    assert response["Retry-After"] == "1"


def test_a_slot_is_free_again_when_its_holder_dies(ada, slot_held_by_another_process):
    slot_held_by_another_process.kill()  # a crashed worker: the kernel releases its lock
    slot_held_by_another_process.wait()
    assert api_login().status_code == 200


def test_machine_slots_follow_the_setting(ada, settings, slot_held_by_another_process):
    settings.LOGIN_MACHINE_CONCURRENCY = 2  # the other process holds one of two
    assert len(login_slots.machine_slot_paths()) == 2
    assert api_login().status_code == 200


def test_a_second_thread_of_the_same_process_does_not_share_the_slot(settings):
    settings.LOGIN_MACHINE_CONCURRENCY = 1
    with login_slots.machine_slot():
        with pytest.raises(login_slots.LoginBusy):
            with login_slots.machine_slot():
                pass
    with login_slots.machine_slot():  # released on leaving the block
        pass
