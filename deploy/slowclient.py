#!/usr/bin/env python3
"""Slow-body clients against a server, with latency probes meanwhile
(docs/operations.md, "Reverse proxy"; run by .ci/slow_client.sh).

Opens ``--clients`` sockets that each send the headers of a
``POST /api/auth/token/`` announcing a body of ``--length`` bytes, then one
byte every ``--interval`` seconds for ``--trickle`` seconds, then nothing
(stall) for up to ``--stall`` seconds, waiting for the server to cut them off.
While the clients are connected, it probes each ``--probe`` path every second
(``--token`` sent as ``Authorization: Token ...``) and records the latency.

Prints a JSON summary; exit status 1 when ``--check`` is given and a probe
failed or took ``--max-latency`` seconds or more, or (with ``--expect-cutoff``)
a slow client was not cut off by the server. Loopback only, standard library
only; bounded in time (trickle + stall + a few seconds).
"""

import argparse
import http.client
import json
import socket
import sys
import threading
import time


def slow_client(host, port, args, result):
    started = time.monotonic()
    result.update(sent=0, cut_off=False, cut_after=None, status=None, error=None)
    try:
        sock = socket.create_connection((host, port), timeout=5)
    except OSError as exc:
        result["error"] = f"connect: {exc}"
        return
    try:
        sock.sendall(
            (
                f"POST {args.path} HTTP/1.1\r\nHost: {args.host_header}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {args.length}\r\n\r\n"
            ).encode()
        )
        sock.settimeout(args.interval)
        deadline = started + args.trickle
        # Trickle: one byte per interval; a reply or a close from the server ends it.
        while time.monotonic() < deadline and result["sent"] < args.length - 1:
            try:
                data = sock.recv(4096)
                if _ended(data, result, started):
                    return
            except TimeoutError:
                pass
            try:
                sock.sendall(b"{" if result["sent"] == 0 else b" ")
                result["sent"] += 1
            except OSError:
                result.update(cut_off=True, cut_after=round(time.monotonic() - started, 1))
                return
        # Stall: send nothing more, wait for the server to give up on us.
        sock.settimeout(0.5)
        stall_until = time.monotonic() + args.stall
        while time.monotonic() < stall_until:
            try:
                data = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            if _ended(data, result, started):
                return
    finally:
        sock.close()


def _ended(data: bytes, result: dict, started: float) -> bool:
    """The server answered (status line) or closed the connection."""
    if data and result["status"] is None and data.startswith(b"HTTP/"):
        result["status"] = int(data.split(b" ", 2)[1])
    if data == b"" or result["status"] is not None:
        result.update(cut_off=True, cut_after=round(time.monotonic() - started, 1))
        return True
    return False


def probe(host, port, path, args, samples, stop):
    headers = {"Host": args.host_header}
    if args.token and path.startswith("/api/"):
        headers["Authorization"] = f"Token {args.token}"
    while not stop.is_set():
        started = time.monotonic()
        try:
            conn = http.client.HTTPConnection(host, port, timeout=args.probe_timeout)
            conn.request("GET", path, headers=headers)
            status = conn.getresponse().status
            conn.close()
        except OSError as exc:
            status = f"error: {type(exc).__name__}"
        samples.append({"status": status, "seconds": round(time.monotonic() - started, 3)})
        stop.wait(1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="host:port (loopback)")
    parser.add_argument("--host-header", default="127.0.0.1")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--path", default="/api/auth/token/")
    parser.add_argument("--length", type=int, default=1000, help="announced body length")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between two bytes")
    parser.add_argument("--trickle", type=float, default=12.0, help="seconds of trickling")
    parser.add_argument("--stall", type=float, default=15.0, help="seconds to wait for a cut-off after trickling")
    parser.add_argument("--probe", action="append", default=[], help="path probed every second (repeatable)")
    parser.add_argument("--token", default="", help="API token for the /api/ probes")
    parser.add_argument("--probe-timeout", type=float, default=5.0)
    parser.add_argument("--max-latency", type=float, default=1.0)
    parser.add_argument("--check", action="store_true", help="exit 1 when a probe is slow or fails")
    parser.add_argument("--expect-cutoff", action="store_true", help="with --check: every client must be cut off")
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    port = int(port)
    if host not in {"127.0.0.1", "localhost", "::1", "[::1]"}:
        parser.error("loopback targets only")

    results = [{} for _ in range(args.clients)]
    clients = [threading.Thread(target=slow_client, args=(host, port, args, r)) for r in results]
    for thread in clients:
        thread.start()
    time.sleep(min(2.0, args.trickle / 2))  # the slow clients are connected and trickling
    stop = threading.Event()
    samples = {path: [] for path in args.probe}
    probes = [threading.Thread(target=probe, args=(host, port, p, args, samples[p], stop)) for p in args.probe]
    for thread in probes:
        thread.start()
    time.sleep(max(0.0, args.trickle - 2.0))  # probe while every slow client is still trickling
    stop.set()
    for thread in probes:
        thread.join()
    for thread in clients:
        thread.join(args.trickle + args.stall + 10)

    failures = []
    summary = {"target": args.target, "clients": args.clients, "interval_s": args.interval, "probes": {}}
    for path, found in samples.items():
        latencies = sorted(s["seconds"] for s in found)
        bad = [s for s in found if s["status"] != 200 or s["seconds"] >= args.max_latency]
        summary["probes"][path] = {
            "requests": len(found),
            "statuses": sorted({str(s["status"]) for s in found}),
            "max_s": latencies[-1] if latencies else None,
            "median_s": latencies[len(latencies) // 2] if latencies else None,
            "slow_or_failed": len(bad),
        }
        if not found or bad:
            failures.append(f"{path}: {len(bad)} of {len(found)} probes failed or took >= {args.max_latency}s")
    cut = [r for r in results if r.get("cut_off")]
    summary["slow_clients"] = {
        "cut_off": len(cut),
        "cut_after_s": sorted(r["cut_after"] for r in cut),
        "statuses": sorted({str(r.get("status")) for r in cut}),
        "bytes_sent_max": max((r.get("sent", 0) for r in results), default=0),
        "errors": [r["error"] for r in results if r.get("error")],
    }
    if args.expect_cutoff and len(cut) < args.clients:
        failures.append(f"{args.clients - len(cut)} slow clients were not cut off")
    summary["failures"] = failures
    print(json.dumps(summary, indent=2))
    return 1 if args.check and failures else 0


if __name__ == "__main__":
    sys.exit(main())
