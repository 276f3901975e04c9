"""Scenario 1: purging a tenant (service, collector, raw DELETE)."""

from bench.core import Candidate, Report, measure, one_shot, ratio
from bench.scenarios import scenario
from bench.sizes import RunSize


@scenario("purge", order=1)
def scenario_purge(report: Report, run: RunSize) -> None:
    from bench.checks import Verdict, tenant_snapshot
    from bench.data import build

    print("\n1. Tenant purge", flush=True)
    by_size: dict[str, dict[str, dict]] = {}
    for size_label, size in (("full", run.tenant), ("small", run.tenant.scaled(run.purge_small_scale))):

        def prepare(size=size):
            a, b = build(run, size)
            other = tenant_snapshot(b.company_id)

            def verify(result):
                from companies.models import Company

                v = Verdict()
                v.expect(not Company.objects.filter(pk=a.company_id).exists(), "the company still exists")
                left = {k: n for k, n in tenant_snapshot(a.company_id)["counts"].items() if n}
                v.expect(not left, f"tenant rows left: {left}")
                v.no_orphans()
                v.other_tenant_intact(b.company_id, other)
                return v.problems

            return {"company_id": a.company_id}, verify

        candidates = [
            Candidate("purge_raw", "raw DELETE FROM companies_company", "purge_raw", prepare),
            Candidate("purge_service", "company_purge (service)", "purge_service", prepare),
            Candidate("purge_collector", "Company.delete() (collector)", "purge_collector", prepare),
        ]
        title = f"1. purge a tenant of {size.rows:,} rows"
        by_size[size_label] = measure(report, title, candidates, one_shot("purge_raw"), run.repeat)
    full, small = by_size["full"], by_size["small"]
    svc, raw = full.get("purge_service"), full.get("purge_raw")
    if svc and raw:
        r = ratio(svc["wall_s"], raw["wall_s"])
        report.target(f"purge: company_purge within 1.5x of raw DELETE: {r:.2f}x", r <= 1.5)
        report.target(
            f"purge: company_purge peak RSS growth < 50 MB: {svc['rss_growth_mb']:.1f} MB", svc["rss_growth_mb"] < 50
        )
    if svc and small.get("purge_service"):
        q_full, q_small = svc["queries"], small["purge_service"]["queries"]
        report.target(
            f"purge: company_purge query count independent of tenant size: {q_small} (small) vs {q_full} (full)",
            q_full == q_small,
        )
    coll = full.get("purge_collector")
    if coll and raw:
        report.target(
            f"purge (reference, no target): Company.delete() through the collector: "
            f"{ratio(coll['wall_s'], raw['wall_s']):.1f}x raw, {coll['queries']} queries "
            f"({small.get('purge_collector', {}).get('queries', '?')} at the small size), "
            f"{coll['rss_growth_mb']:.0f} MB",
            None,
        )
