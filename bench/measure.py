"""Wall time, query count and peak memory growth of a block of code.

- wall time: ``time.perf_counter`` around the block (commit included);
- queries: statements sent through Django's connection (an
  ``execute_wrapper``), savepoints included; the implicit BEGIN/COMMIT of a
  transaction are not counted;
- peak memory growth: the process's peak resident set size during the block
  minus its resident set size just before it. On Linux the peak is reset
  right before the block (``/proc/self/clear_refs``) and read from ``VmHWM``,
  so nothing before the block (imports, setup) counts. Each path runs in a
  fresh process (bench/worker.py), so earlier paths do not count either. The
  PostgreSQL server's memory is not included.
"""

import gc
import os
import resource
import sys
import time
from contextlib import contextmanager

from django.db import connection

MB = 1024 * 1024


def current_rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_rss()


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class Probe:
    def __init__(self):
        self.queries = 0
        self.wall = 0.0
        self.rss_growth = 0
        self.peak_exact = False
        self.started = 0.0
        self.ended = 0.0

    def _count(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    @contextmanager
    def counting(self):
        with connection.execute_wrapper(self._count):
            yield self

    @contextmanager
    def measure(self):
        connection.ensure_connection()
        gc.collect()
        before = current_rss()
        self.peak_exact = reset_peak()
        self.started = time.monotonic()
        t0 = time.perf_counter()
        with self.counting():
            yield self
        self.wall = time.perf_counter() - t0
        self.ended = time.monotonic()
        self.rss_growth = max(0, peak_rss() - before)

    def as_dict(self) -> dict:
        return {
            "wall_s": self.wall,
            "queries": self.queries,
            "rss_growth_mb": self.rss_growth / MB,
            "peak_exact": self.peak_exact,
            "started": self.started,
            "ended": self.ended,
        }
