"""Scenario 2: erasing a person (service, collector, raw DELETE + recompute)."""

from bench.core import Candidate, Report, measure, one_shot, ratio
from bench.scenarios import scenario
from bench.sizes import RunSize


def _has_user_erase() -> bool:
    from companies import services

    return hasattr(services, "user_erase")


@scenario("erase", order=2)
def scenario_erase(report: Report, run: RunSize) -> None:
    from bench.checks import Verdict, stale_derived, tenant_snapshot
    from bench.data import build

    print("\n2. User erasure", flush=True)

    def prepare():
        a, b = build(run)
        other = tenant_snapshot(b.company_id)
        target = a.erase_target_id

        def verify(result):
            from chat.models import Message
            from companies.models import User

            v = Verdict()
            v.expect(not User.objects.filter(pk=target).exists(), "the user still exists")
            v.expect(not Message.objects.filter(author_id=target).exists(), "messages of the user remain")
            v.expect(
                User.objects.filter(company_id=a.company_id).count() == a.size.users - 1,
                "other users of the tenant were deleted",
            )
            stale = stale_derived(a.company_id)
            v.expect(not stale, f"stale derived fields: {stale}")
            v.no_orphans()
            v.other_tenant_intact(b.company_id, other)
            return v.problems

        return {"user_id": target}, verify

    candidates = [Candidate("erase_raw", "raw DELETE + set-based recompute", "erase_raw", prepare)]
    if _has_user_erase():
        candidates.append(Candidate("erase_service", "user_erase (service)", "erase_service", prepare))
    candidates.append(Candidate("erase_collector", "user.delete() (collector + signals)", "erase_collector", prepare))
    t = run.tenant
    title = f"2. erase a user with {t.erase_messages:,} msgs in {t.erase_channels} channels"
    results = measure(report, title, candidates, one_shot("erase_raw"), run.repeat)
    raw = results.get("erase_raw")
    for key, name in (("erase_service", "user_erase"), ("erase_collector", "user.delete()")):
        got = results.get(key)
        if got and raw:
            report.target(
                f"erase (no fixed target): {name} vs raw: {ratio(got['wall_s'], raw['wall_s']):.2f}x time, "
                f"{got['queries']} vs {raw['queries']} queries, {got['rss_growth_mb']:.1f} MB peak RSS growth",
                None,
            )
