"""The bench's machinery: run a measured path in a fresh process, collect
the rows, render the table (one helper: ``workspace.integrity.table.md_table``,
the project's Markdown tables), and the formatting shared by the scenarios."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from workspace.integrity.table import md_table

ROOT = Path(__file__).resolve().parent.parent
HEADERS = ("scenario", "path", "wall time", "queries", "peak RSS growth", "time vs raw", "check")


@dataclass
class Row:
    scenario: str
    path: str
    time: str = ""
    queries: str = ""
    rss: str = ""
    ratio: str = ""
    check: str = ""
    data: dict = field(default_factory=dict)


class Report:
    def __init__(self):
        self.rows: list[Row] = []
        self.targets: list[str] = []
        self.failures: list[str] = []

    def add(self, row: Row, problems: list[str]) -> Row:
        row.check = "ok" if not problems else "FAILED"
        if problems:
            self.failures.append(f"{row.scenario} / {row.path}: " + "; ".join(problems))
        self.rows.append(row)
        print(f"  {row.path:<34} {row.time:>18} {row.queries:>16} {row.rss:>9} {row.ratio:>7}  {row.check}", flush=True)
        for problem in problems:
            print(f"    !! {problem}", flush=True)
        return row

    def target(self, text: str, met: bool | None) -> None:
        verdict = {True: "met", False: "MISSED", None: "n/a"}[met]
        self.targets.append(f"- {text}: **{verdict}**")

    def table(self) -> str:
        return md_table(HEADERS, [(r.scenario, r.path, r.time, r.queries, r.rss, r.ratio, r.check) for r in self.rows])


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def fmt_mb(mb: float) -> str:
    return f"{mb:.1f} MB"


def ratio(value: float, limit: float) -> float:
    return value / limit if limit > 0 else float("inf")


# --- running one path ----------------------------------------------------------


class PathCrashed(Exception):
    pass


def run_path(path: str, **args) -> dict:
    """Run one measured path in a fresh Python process (bench/worker.py)."""
    from bench.worker import RESULT_PREFIX

    spec = json.dumps({"path": path, "args": args})
    proc = subprocess.run(
        [sys.executable, "-m", "bench.worker", spec],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=4 * 3600,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX) and proc.returncode == 0:
            return json.loads(line[len(RESULT_PREFIX) :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
    raise PathCrashed(f"{path} exited {proc.returncode}:\n      " + "\n      ".join(tail))


@dataclass
class Candidate:
    """One measured path of a scenario. ``prepare()`` rebuilds the data and
    returns ``(args, verify)``; ``verify(result)`` returns the problems it
    finds in the data after the run."""

    key: str
    label: str
    path: str
    prepare: Callable[[], tuple[dict, Callable[[dict], list[str]]]]


def measure(
    report: Report,
    scenario: str,
    candidates: list[Candidate],
    describe: Callable[[Row, dict, dict], None],
    repeat: int = 1,
) -> dict[str, dict]:
    """Run the candidates ``repeat`` rounds, interleaved (limit, project,
    limit, project, ...) so that a change in machine load hits them alike.
    Each candidate's row shows its median run by wall time, with the largest
    memory growth of its runs; ``describe(row, result, all_results)`` fills
    the row (the limit is the first candidate)."""
    runs: dict[str, list[dict]] = {c.key: [] for c in candidates}
    problems: dict[str, list[str]] = {c.key: [] for c in candidates}
    crashed: dict[str, str] = {}
    for round_ in range(repeat):
        for c in candidates:
            if c.key in crashed:
                continue
            args, verify = c.prepare()
            try:
                result = run_path(c.path, **args)
            except PathCrashed as exc:
                crashed[c.key] = str(exc)
                continue
            problems[c.key] += [p for p in verify(result) if p not in problems[c.key]]
            runs[c.key].append(result)
            if repeat > 1:
                print(f"    run {round_ + 1}/{repeat}  {c.label:<40} {result['wall_s']:.3f} s", flush=True)
    results: dict[str, dict] = {}
    for c in candidates:
        if runs[c.key]:
            median = dict(sorted(runs[c.key], key=lambda r: r["wall_s"])[len(runs[c.key]) // 2])
            median["rss_growth_mb"] = max(r["rss_growth_mb"] for r in runs[c.key])
            median["runs_wall_s"] = [r["wall_s"] for r in runs[c.key]]
            results[c.key] = median
    for c in candidates:
        if c.key in crashed:
            report.add(Row(scenario, c.label, check="FAILED"), [crashed[c.key]])
            continue
        row = Row(scenario, c.label, data=results[c.key])
        describe(row, results[c.key], results)
        report.add(row, problems[c.key])
    return results


def one_shot(limit_key: str):
    """``describe`` for one-shot paths: seconds, queries, memory, ratio to the limit."""

    def describe(row: Row, result: dict, results: dict) -> None:
        row.time = fmt_s(result["wall_s"])
        row.queries = str(result["queries"])
        row.rss = fmt_mb(result["rss_growth_mb"])
        limit = results.get(limit_key)
        row.ratio = f"{ratio(result['wall_s'], limit['wall_s']):.2f}x" if limit else ""

    return describe
