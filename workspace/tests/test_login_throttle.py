"""Login throttling (workspace/login_throttle.py): failed logins per username
and per client address, on the API token endpoint and the admin login, 429
with Retry-After, a lockout window, shared through the cache (Redis in CI)."""

import os
import uuid

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from rest_framework.test import APIClient

from companies.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass"
LIMIT = 3
LOCKOUT = 120


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.LOGIN_FAILURE_LIMIT = LIMIT
    settings.LOGIN_LOCKOUT_SECONDS = LOCKOUT
    settings.AXES_COOLOFF_TIME = __import__("datetime").timedelta(seconds=LOCKOUT)


@pytest.fixture
def ada():
    return UserFactory(username="ada", password=PASSWORD)


def api_login(username="ada", password=PASSWORD, ip="10.0.0.1", **extra):
    return APIClient().post(
        "/api/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=ip, **extra
    )


def admin_login(username="ada", password=PASSWORD, ip="10.0.0.1", **extra):
    return Client().post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


def assert_locked(response):
    assert response.status_code == 429, response.content[:500]
    assert int(response["Retry-After"]) == LOCKOUT


# --- API -------------------------------------------------------------------------


def test_api_locks_a_username_out_after_the_limit_even_with_the_right_password(ada):
    for _ in range(LIMIT - 1):
        assert api_login(password="wrong").status_code == 400
    response = api_login(password="wrong")
    assert_locked(response)
    assert response.json() == {"detail": f"Too many failed login attempts. Try again in {LOCKOUT} seconds."}
    # Locked: the right password too, and from another address (per username).
    assert_locked(api_login())
    assert_locked(api_login(ip="10.9.9.9"))
    # Another username from another address is not affected.
    UserFactory(username="bob", password=PASSWORD)
    assert api_login(username="bob", ip="10.7.7.7").status_code == 200


def test_api_locks_an_address_out_across_usernames(ada):
    for n in range(LIMIT - 1):
        assert api_login(username=f"guess{n}", password="wrong").status_code == 400
    assert_locked(api_login(username="guess-last", password="wrong"))
    # ada's right password from that address: refused; from another: fine.
    assert_locked(api_login())
    assert api_login(ip="10.0.0.2").status_code == 200


def test_successful_logins_are_not_counted(ada):
    for _ in range(LIMIT * 3):
        assert api_login().status_code == 200


def test_the_lockout_ends_after_the_window(ada):
    for _ in range(LIMIT):
        api_login(password="wrong")
    assert_locked(api_login())
    # The window passes: the counters expire with it (the cache's timeout).
    caches["default"].clear()
    assert api_login().status_code == 200


def test_counters_expire_with_the_lockout_window(ada, settings):
    # The counter keys carry the window as their timeout.
    api_login(password="wrong")
    cache = caches["default"]
    keys = list(cache._cache.keys())
    assert keys and all(cache._expire_info[k] is not None for k in keys)


def test_throttled_login_does_not_hash_the_password(ada, django_assert_num_queries):
    for _ in range(LIMIT):
        api_login(password="wrong")
    # Refused before the user is even looked up.
    with django_assert_num_queries(0):
        assert_locked(api_login())


def test_trusted_proxy_count_takes_the_address_the_proxy_saw(ada, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forges the left part; the proxy appended the real address.
    for n in range(LIMIT):
        api_login(username=f"g{n}", password="wrong", ip="127.0.0.1", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 203.0.113.5")
    assert_locked(api_login(ip="127.0.0.1", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5"))
    assert api_login(ip="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200


def test_without_trusted_proxies_x_forwarded_for_is_ignored(ada):
    for n in range(LIMIT):
        api_login(username=f"g{n}", password="wrong", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}")
    assert_locked(api_login(HTTP_X_FORWARDED_FOR="8.8.8.8"))


def test_a_username_that_looks_like_an_address_does_not_lock_that_address(ada):
    for _ in range(LIMIT):
        api_login(username="10.0.0.5", password="wrong", ip="10.0.0.1")
    # The username "10.0.0.5" is locked; the address 10.0.0.5 is not.
    assert api_login(ip="10.0.0.5").status_code == 200


def test_api_and_admin_share_the_counters(ada):
    for _ in range(LIMIT - 1):
        admin_login(password="wrong")
    assert_locked(api_login(password="wrong"))


# --- admin -------------------------------------------------------------------------


def test_admin_login_locks_out_with_429_and_retry_after(ada):
    ada.is_staff = True
    ada.save()
    for _ in range(LIMIT - 1):
        response = admin_login(password="wrong")
        assert response.status_code == 200  # the form again, with its error
    assert_locked(admin_login(password="wrong"))
    response = admin_login()
    assert_locked(response)
    assert "Too many login attempts" in response.content.decode()
    assert "_auth_user_id" not in Client().session


def test_admin_login_works_again_after_the_window(ada):
    ada.is_staff = True
    ada.save()
    for _ in range(LIMIT):
        admin_login(password="wrong")
    caches["default"].clear()
    assert admin_login().status_code == 302


def test_admin_login_per_address(ada):
    ada.is_staff = True
    ada.save()
    for n in range(LIMIT):
        admin_login(username=f"admin{n}", password="wrong")
    assert_locked(admin_login())
    assert admin_login(ip="10.0.0.2").status_code == 302


def test_test_client_login_without_a_request_is_not_throttled(ada, client):
    # authenticate() without a request (test client, shell): no client to
    # throttle, and no crash (axes would raise).
    assert client.login(username="ada", password=PASSWORD)


# --- shared by every worker: Redis -----------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")


@pytest.fixture
def redis_caches(settings):
    """The default cache on Redis (REDIS_URL) with a key prefix of its own, and
    a second, separate client of the same Redis: what another gunicorn worker
    would use. Only this test's keys are deleted afterwards."""
    if not REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must test the Redis path: set REDIS_URL (see .ci/run)")
        pytest.skip("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/15 (CI does)")
    prefix = f"test-{uuid.uuid4().hex}"
    config = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": prefix}
    settings.CACHES = {"default": config}
    other_worker = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    yield caches["default"], other_worker
    client = other_worker._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_redis_two_clients_share_the_counter_and_the_lockout(ada, redis_caches):
    worker_a, worker_b = redis_caches
    assert isinstance(worker_a, RedisCache)
    for _ in range(LIMIT - 1):
        assert api_login(password="wrong").status_code == 400
    # The other worker's connection sees the same counters.
    assert worker_a._cache.get_client() is not worker_b._cache.get_client()
    prefix_keys = list(worker_b._cache.get_client().scan_iter(match=f"{worker_b.key_prefix}:*"))
    assert len(prefix_keys) == 2  # username and address
    # A failure recorded through the other client pushes the count over the limit.
    for key in prefix_keys:
        raw = key.decode().split(":", 2)[2]
        worker_b.incr(raw)
    assert_locked(api_login())


def test_redis_lockout_window_expires(ada, redis_caches):
    worker_a, worker_b = redis_caches
    for _ in range(LIMIT):
        api_login(password="wrong")
    client = worker_b._cache.get_client()
    keys = list(client.scan_iter(match=f"{worker_b.key_prefix}:*"))
    assert keys and all(0 < client.ttl(key) <= LOCKOUT for key in keys)
    assert_locked(api_login())
    client.delete(*keys)  # the window passed
    assert api_login().status_code == 200
