"""``python -m bench [options]``: build the data, measure every scenario
(the project's path and the raw-SQL limit on identical data), check the data
is still right after each path, print the table.

Exit status: 0 when every path left the data correct (timing targets missed
or not), 1 when a path left it wrong or crashed, 2 when the bench cannot run
(no PostgreSQL, a database it must not wipe, bad options).
"""

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

from bench import env as bench_env
from bench.core import ROOT, Report
from bench.scenarios import registered
from bench.sizes import DEFAULT, SMOKE, RunSize, TenantSize

#: every scenario module of bench/scenarios/, in their order
SCENARIOS = tuple(registered())


# --- options -----------------------------------------------------------------


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, RunSize]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI: proves the bench works)")
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help=f"comma-separated scenarios ({', '.join(SCENARIOS)})"
    )
    parser.add_argument(
        "--output", default=str(ROOT / "bench" / "results"), help="directory for latest.md / latest.json"
    )
    sizes = parser.add_argument_group("tenant size (defaults: the preset)")
    for f in fields(TenantSize):
        sizes.add_argument(f"--{f.name.replace('_', '-')}", type=int, dest=f.name)
    run = parser.add_argument_group("run")
    for f in fields(RunSize):
        if f.name != "tenant":
            run.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), dest=f.name)
    args = parser.parse_args(argv)
    preset = SMOKE if args.smoke else DEFAULT
    tenant = replace(
        preset.tenant,
        **{f.name: getattr(args, f.name) for f in fields(TenantSize) if getattr(args, f.name) is not None},
    )
    size = replace(
        preset,
        tenant=tenant,
        **{
            f.name: getattr(args, f.name)
            for f in fields(RunSize)
            if f.name != "tenant" and getattr(args, f.name) is not None
        },
    )
    errors = tenant.validate() + tenant.scaled(size.other_scale).validate()
    errors += tenant.scaled(size.purge_small_scale).validate()
    if min(size.posts, size.writers, size.posts_per_writer, size.pages) < 1:
        errors.append("--posts, --writers, --posts-per-writer and --pages must be at least 1")
    unknown = set(args.only.split(",")) - set(SCENARIOS)
    if unknown:
        errors.append(f"unknown scenario(s) {sorted(unknown)}; choose from {SCENARIOS}")
    if errors:
        parser.error("; ".join(dict.fromkeys(errors)))
    return args, size


# --- main ------------------------------------------------------------------------


def load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.1f} (1 min), {five:.1f} (5 min)"


def machine() -> str:
    cores = os.cpu_count()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
        mem_text = f", {mem:.0f} GiB RAM"
    except (ValueError, OSError):
        mem_text = ""
    return f"{platform.system()} {platform.machine()}, {cores} cores{mem_text}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    args, run = parse_args(argv)
    url = bench_env.database_url()
    bench_env.require_postgres(url)
    os.environ.update(bench_env.process_env(url))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    bench_env.claim_database()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]

    started = time.time()
    load_before = load()
    print(f"bench: {bench_env.redacted(url)} (PostgreSQL {pg_version}), {machine()}, load {load_before}")
    print(f"bench: tenant {run.tenant.describe()}")
    print(
        f"bench: other tenant x{run.other_scale}, purge also at x{run.purge_small_scale}, "
        f"posts={run.posts}, writers={run.writers}x{run.posts_per_writer}, pages={run.pages}"
    )
    report = Report()
    for name in args.only.split(","):
        registered()[name](report, run)
    elapsed = time.time() - started

    table = report.table()
    targets = "\n".join(report.targets)
    header = (
        f"Machine: {machine()}; PostgreSQL {pg_version}.\n"
        f"Command: python -m bench {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip()
        + "\n"
        f"Tenant: {run.tenant.describe()}; other tenant x{run.other_scale}.\n"
        f"Total run time: {elapsed:.0f} s; load average {load_before} at the start, {load()} at the end."
    )
    print("\n" + header + "\n\n" + table + "\n\nTargets:\n" + targets)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(header + "\n\n" + table + "\n\nTargets:\n\n" + targets + "\n")
    (out / "latest.json").write_text(
        json.dumps(
            {
                "run": run.as_dict(),
                "rows": [r.__dict__ | {"data": {k: v for k, v in r.data.items() if k != "seen"}} for r in report.rows],
                "targets": report.targets,
            },
            indent=2,
            default=str,
        )
    )
    if report.failures:
        print("\nCORRECTNESS FAILURES:\n" + "\n".join(f"- {f}" for f in report.failures), file=sys.stderr)
        return 1
    print(f"\nbench: all paths left the data correct ({elapsed:.0f} s); results in {out}/latest.md")
    return 0
