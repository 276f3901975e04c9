"""`make attack`: a hostile user against `make serve` (docs/security.md).

Starts `make serve` (gunicorn, DEBUG off, PostgreSQL) on a database of its own
filled by `seed_demo`, then tries, as an attacker would, each thing that
issue #10 saw get through, and records what the server answered. Every
attempt is bounded (counts, timeouts) and goes to 127.0.0.1 only.

Settings (environment):
  ATTACK_DATABASE_URL   a database of its own, dropped and re-created
                        (default postgres://postgres@127.0.0.1:5432/workspace_attack_load)
  ATTACK_PORT           where `make serve` listens (default 8767)
  ATTACK_REDIS_URL      the throttle store shared by the workers (default
                        redis://127.0.0.1:6379/13), flushed first: a previous
                        run's lockout of 127.0.0.1 must not answer this run

Exit status 0 when every attack was refused as docs/security.md says, 1
otherwise. Results: loadtest/results/attack.json and a Markdown table on
stdout (pasted into docs/security.md).
"""

import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlencode

from loadtest.run import ROOT, RESULTS, recreate_database, start_server, stop_server, wait_healthy

PY = str(ROOT / ".venv" / "bin" / "python")


class Http:
    """One keep-alive-free request at a time to the server, raw enough to
    send a bad Host or an oversized body."""

    def __init__(self, port: int):
        self.port = port

    def request(self, method, path, *, body=None, headers=None, host=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = dict(headers or {})
        if host is not None:
            conn.putrequest(method, path, skip_host=True)
            conn.putheader("Host", host)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders(body)
        else:
            conn.request(method, path, body=body, headers=headers)
        started = time.monotonic()
        response = conn.getresponse()
        data = response.read()
        elapsed = time.monotonic() - started
        conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data, elapsed

    def json(self, method, path, payload=None, token=None, **kwargs):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        headers.update(kwargs.pop("headers", {}))
        body = json.dumps(payload).encode() if payload is not None else None
        return self.request(method, path, body=body, headers=headers, **kwargs)


def is_json(headers, data) -> bool:
    if not headers.get("content-type", "").startswith("application/json"):
        return False
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


class Results:
    def __init__(self):
        self.rows = []

    def add(self, area, attack, expected, observed, ok, figures=""):
        self.rows.append(
            {
                "area": area,
                "attack": attack,
                "expected": expected,
                "observed": observed,
                "ok": bool(ok),
                "figures": figures,
            }
        )
        mark = "ok " if ok else "FAIL"
        print(f"[{mark}] {area}: {attack} -> {observed} {figures}", flush=True)

    def markdown(self) -> str:
        lines = ["| area | attack | expected | observed | figures | verdict |", "|---|---|---|---|---|---|"]
        for r in self.rows:
            lines.append(
                f"| {r['area']} | {r['attack']} | {r['expected']} | {r['observed']} | {r['figures']} | "
                f"{'refused as designed' if r['ok'] else '**FAILED**'} |"
            )
        return "\n".join(lines)


def manage(env, *args, input_text=None) -> str:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True, input=input_text
    ).stdout


IDENTITIES = r"""
import json
from chat.models import Channel, Message
from companies.models import Company, User
from meetings.models import Meeting
a, b = Company.objects.order_by("id")[:2]
def admin_of(company):
    return User.objects.filter(company=company, role="admin").order_by("id").first()
def member_of(company):
    return User.objects.filter(company=company, role="member").order_by("id").first()
admin_b = admin_of(b)
print(json.dumps({
    "a_admin": admin_of(a).username, "a_member": member_of(a).username,
    "b_admin": admin_b.username, "b_member": member_of(b).username,
    "b_objects": {
        "companies/company": b.pk,
        "companies/user": admin_b.pk,
        "chat/channel": Channel.objects.filter(company=b).order_by("id").first().pk,
        "chat/message": Message.objects.filter(channel__company=b).order_by("id").first().pk,
        "meetings/meeting": Meeting.objects.filter(company=b).order_by("id").first().pk,
    },
    "b_channel_ids": list(Channel.objects.filter(company=b).values_list("id", flat=True)),
}))
"""

PASSWORD = "password"  # seed_demo's password for every person (development data)


def login(http, username, password=PASSWORD):
    return http.json("POST", "/api/auth/token/", {"username": username, "password": password})


def admin_session(http, username, password=PASSWORD):
    """Log into the admin with the login form (CSRF included); the session
    cookie, or None and the status of the refusal."""
    status, headers, data, _ = http.request("GET", "/admin/login/")
    csrf_cookie = re.search(r"csrftoken=([^;]+)", headers.get("set-cookie", "")).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', data).group(1).decode()
    body = urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"}
    ).encode()
    status, headers, data, _ = http.request(
        "POST",
        "/admin/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
            "Referer": f"http://127.0.0.1:{http.port}/admin/login/",
        },
    )
    match = re.search(r"sessionid=([^;]+)", headers.get("set-cookie", ""))
    return (f"sessionid={match.group(1)}" if status == 302 and match else None), status, headers


def attack_tokens(http, ids, results):
    s1, _, d1, _ = login(http, ids["b_admin"])
    s2, _, d2, _ = login(http, ids["b_admin"])
    t1, t2 = json.loads(d1).get("token"), json.loads(d2).get("token")
    results.add(
        "tokens",
        "two logins of one user",
        "two different tokens with an expiry",
        f"{s1}/{s2}, different={t1 != t2}, expires_at={'expires_at' in json.loads(d1)}",
        s1 == s2 == 200 and t1 != t2 and "expires_at" in json.loads(d1),
    )
    s, *_ = http.json("DELETE", "/api/auth/token/", token=t1)
    after, *_ = http.json("GET", "/api/me/", token=t1)
    other, *_ = http.json("GET", "/api/me/", token=t2)
    results.add(
        "tokens",
        "logout, then reuse the token",
        "204, then 401; the other token still works",
        f"{s}, then {after}; other token {other}",
        s == 204 and after == 401 and other == 200,
    )
    s, *_ = http.json("DELETE", "/api/auth/tokens/", token=t2)
    after, *_ = http.json("GET", "/api/me/", token=t2)
    results.add(
        "tokens", "logout everywhere, then reuse", "204, then 401", f"{s}, then {after}", s == 204 and after == 401
    )
    forged, *_ = http.json("GET", "/api/me/", token=secrets.token_hex(32))
    results.add("tokens", "a made-up token", "401", str(forged), forged == 401)


def attack_admin_scope(http, ids, results):
    cookie, status, _ = admin_session(http, ids["a_admin"])
    if cookie is None:
        results.add("admin", "staff of tenant A logs into the admin", "a session", f"login {status}", False)
        return
    statuses = Counter()
    for path, pk in ids["b_objects"].items():
        for page in ("change", "delete", "history"):
            s, *_ = http.request("GET", f"/admin/{path}/{pk}/{page}/", headers={"Cookie": cookie})
            statuses[s] += 1
    results.add(
        "admin",
        "staff of tenant A opens tenant B's objects (change, delete, history; 5 models)",
        "404 every time",
        " ".join(f"{k}x{v}" for k, v in sorted(statuses.items())),
        set(statuses) == {404},
        f"{sum(statuses.values())} requests",
    )
    s, _, data, _ = http.request("GET", "/admin/chat/channel/?q=", headers={"Cookie": cookie})
    leaked = [pk for pk in ids["b_channel_ids"] if f"/admin/chat/channel/{pk}/change/".encode() in data]
    results.add(
        "admin",
        "staff of tenant A lists channels",
        "none of tenant B's",
        f"{s}, {len(leaked)} of B's shown",
        s == 200 and not leaked,
    )


def attack_visibility(http, ids, results):
    admin = json.loads(login(http, ids["a_admin"])[2])["token"]
    member = json.loads(login(http, ids["a_member"])[2])["token"]
    me_member = json.loads(http.json("GET", "/api/me/", token=member)[2])["id"]
    s, _, data, _ = http.json(
        "POST", "/api/channels/", {"name": f"secret-{secrets.token_hex(3)}", "is_private": True}, token=admin
    )
    channel = json.loads(data)["id"]
    http.json("POST", f"/api/channels/{channel}/members/", {"user": me_member}, token=admin)
    body = {
        "title": "Reorg",
        "starts_at": "2030-01-01T10:00:00Z",
        "ends_at": "2030-01-01T11:00:00Z",
        "channel": channel,
        "participants": [],
    }
    meeting = json.loads(http.json("POST", "/api/meetings/", body, token=admin)[2])["id"]
    before, *_ = http.json("GET", f"/api/meetings/{meeting}/", token=member)
    http.json("DELETE", f"/api/channels/{channel}/", token=admin)
    after, *_ = http.json("GET", f"/api/meetings/{meeting}/", token=member)
    results.add(
        "visibility",
        "a channel member reads a private channel's meeting, before and after the channel's delete",
        "200, then 404",
        f"{before}, then {after}",
        before == 200 and after == 404,
    )


def attack_malformed(http, ids, results):
    token = json.loads(login(http, ids["a_member"])[2])["token"]
    deep = b"[" * 10_000 + b"]" * 10_000
    s, h, d, _ = http.request("POST", "/api/auth/token/", body=deep, headers={"Content-Type": "application/json"})
    results.add(
        "errors",
        "JSON nested 10,000 deep on the token endpoint",
        "400 JSON",
        f"{s}, JSON={is_json(h, d)}",
        s == 400 and is_json(h, d),
    )
    channels = [c for c in json.loads(http.json("GET", "/api/channels/", token=token)[2])["results"] if c["is_member"]]
    s, h, d, _ = http.request(
        "POST",
        f"/api/channels/{channels[0]['id']}/messages/",
        body=deep,
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    results.add(
        "errors",
        "JSON nested 10,000 deep on a message post",
        "400 JSON",
        f"{s}, JSON={is_json(h, d)}",
        s == 400 and is_json(h, d),
    )
    big = b'{"body": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    s, h, d, _ = http.request(
        "POST",
        f"/api/channels/{channels[0]['id']}/messages/",
        body=big,
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    results.add("errors", "a 3 MiB body", "413 JSON", f"{s}, JSON={is_json(h, d)}", s == 413 and is_json(h, d))
    s, h, d, _ = http.request("GET", "/api/me/", host="evil.example", headers={"Authorization": f"Token {token}"})
    results.add(
        "errors", "a bad Host header under /api/", "400 JSON", f"{s}, JSON={is_json(h, d)}", s == 400 and is_json(h, d)
    )
    marker = "tampered" + secrets.token_hex(4)
    s, h, d, _ = http.json("GET", f"/api/channels/{channels[0]['id']}/messages/?cursor={marker}", token=token)
    results.add(
        "errors",
        "a tampered cursor",
        "404 JSON, input not echoed",
        f"{s}, echoed={marker.encode() in d}",
        s == 404 and marker.encode() not in d,
    )


def attack_surface(http, ids, results):
    token = json.loads(login(http, ids["a_member"])[2])["token"]
    s, h, *_ = http.json("GET", "/api/me/", token=token)
    results.add(
        "surface",
        "an authenticated API response",
        "Cache-Control: no-store",
        h.get("cache-control", "-"),
        "no-store" in h.get("cache-control", ""),
    )
    s, h, *_ = http.request("GET", "/admin/login/")
    results.add(
        "surface",
        "the admin login page",
        "a Content-Security-Policy",
        (h.get("content-security-policy", "-")[:60] + "..."),
        "default-src" in h.get("content-security-policy", ""),
    )
    s, h, *_ = http.request("GET", "/api/me/", headers={"Authorization": f"Token {token}", "Accept": "text/html"})
    results.add(
        "surface",
        "the browsable API in production",
        "JSON only",
        h.get("content-type", "-"),
        h.get("content-type", "").startswith("application/json"),
    )
    s, *_ = http.request("GET", "/api/schema/")
    s2, h2, *_ = http.request("GET", "/api/docs/")
    to_login = s2 == 302 and h2.get("location", "").startswith("/admin/login/")
    results.add(
        "surface",
        "schema and Swagger UI without credentials",
        "401; the UI redirects to the login",
        f"{s}; {s2} to {h2.get('location', '-').split('?')[0]}",
        s == 401 and to_login,
    )


def attack_bruteforce(http, ids, results):
    # Another user's reads while six threads guess passwords in parallel.
    reader = json.loads(login(http, ids["b_member"])[2])["token"]
    quiet = sorted(http.json("GET", "/api/me/", token=reader)[3] for _ in range(10))
    statuses, retry_after = Counter(), set()

    def guess(worker):
        for attempt in range(10):
            # A login that finds every hashing slot busy is refused at once
            # (429, Retry-After: 1) and not counted as a failure; an attacker
            # retries it. Without the retry, how many guesses reach the
            # password check (and so the lockout) depended on timing.
            for _retry in range(100):
                s, h, *_ = login(http, ids["a_admin"], f"wrong-{worker}-{attempt}")
                if not (s == 429 and h.get("retry-after") == "1"):
                    break
                time.sleep(0.02)
            statuses[s] += 1
            if "retry-after" in h:
                retry_after.add(h["retry-after"])

    threads = [threading.Thread(target=guess, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    busy = []
    while any(t.is_alive() for t in threads):
        busy.append(http.json("GET", "/api/me/", token=reader)[3])
    for t in threads:
        t.join()
    busy.sort()
    right, h, *_ = login(http, ids["a_admin"])
    results.add(
        "login throttle",
        "60 wrong passwords for one username, 6 in parallel, then the right one",
        "429 with Retry-After after the limit; the right one too during the lockout",
        " ".join(f"{k}x{v}" for k, v in sorted(statuses.items())) + f"; right password: {right}",
        statuses[429] > 0 and retry_after and right == 429,
        f"another user's GET /api/me/ p50 {1000 * quiet[len(quiet) // 2]:.0f} ms quiet, "
        f"{1000 * busy[len(busy) // 2]:.0f} ms (max {1000 * busy[-1]:.0f} ms) during the attack"
        if busy
        else "",
    )
    statuses = Counter()
    for n in range(40):
        s, *_ = login(http, f"nobody-{n}", "guess")
        statuses[s] += 1
    results.add(
        "login throttle",
        "password spraying: 40 usernames from one address",
        "429 after the limit",
        " ".join(f"{k}x{v}" for k, v in sorted(statuses.items())),
        statuses[429] > 0,
    )


def attack_admin_bruteforce(http, ids, results):
    statuses = Counter()
    for n in range(15):
        _, s, h = admin_session(http, "admin", f"guess-{n}")
        statuses[s] += 1
    results.add(
        "login throttle",
        "15 wrong passwords for the admin login of `admin`",
        "429 after the limit",
        " ".join(f"{k}x{v}" for k, v in sorted(statuses.items())),
        statuses[429] > 0,
    )


def main() -> int:
    port = int(os.environ.get("ATTACK_PORT", "8767"))
    url = os.environ.get("ATTACK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/workspace_attack_load")
    RESULTS.mkdir(parents=True, exist_ok=True)
    recreate_database(url)
    redis_url = os.environ.get("ATTACK_REDIS_URL", "redis://127.0.0.1:6379/13")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_LOG_LEVEL": os.environ.get("ATTACK_LOG_LEVEL", "WARNING"),
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
    }
    manage(env, "migrate", "--noinput", "-v0")
    manage(
        env,
        "seed_demo",
        "--companies",
        "2",
        "--users",
        "6",
        "--messages",
        "60",
        "--no-progress",
        "--admin-password",
        secrets.token_urlsafe(12),
        "--force",
    )
    ids = json.loads(manage(env, "shell", "-v", "0", "-c", IDENTITIES).strip().splitlines()[-1])
    log = open(RESULTS / "attack-server.log", "w")
    server = start_server({"port": port}, env, log)
    results = Results()
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server)
        http = Http(port)
        # The throttles lock out the attacker's address: brute force comes last.
        for attack in (
            attack_tokens,
            attack_admin_scope,
            attack_visibility,
            attack_malformed,
            attack_surface,
            attack_bruteforce,
            attack_admin_bruteforce,
        ):
            try:
                attack(http, ids, results)
            except Exception as exc:  # an attack that crashed is a failure, not an abort
                results.add(attack.__name__, "(crashed)", "-", f"{type(exc).__name__}: {exc}", False)
    finally:
        stop_server(server)
        log.close()
    (RESULTS / "attack.json").write_text(json.dumps(results.rows, indent=2))
    print()
    print(results.markdown())
    failed = [r for r in results.rows if not r["ok"]]
    print(f"\n{len(results.rows) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
