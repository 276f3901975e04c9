"""Scenario 5: deleting a channel (service, collector, raw DELETE)."""

from bench.core import Candidate, Report, measure, one_shot, ratio
from bench.scenarios import scenario
from bench.sizes import RunSize


@scenario("channel", order=5)
def scenario_channel(report: Report, run: RunSize) -> None:
    from bench.checks import Verdict, stale_derived, tenant_snapshot
    from bench.data import build
    from chat.models import Channel, Message
    from meetings.models import Meeting

    print("\n5. Channel delete", flush=True)
    sizes = {}

    def prepare():
        a, b = build(run)
        other = tenant_snapshot(b.company_id)
        channel_id = a.busiest_channel_id()
        sizes["messages"] = Message.objects.filter(channel_id=channel_id).count()
        meetings = set(Meeting.objects.filter(channel_id=channel_id).values_list("pk", flat=True))

        def verify(result):
            v = Verdict()
            v.expect(not Channel.objects.filter(pk=channel_id).exists(), "the channel still exists")
            v.expect(not Message.objects.filter(channel_id=channel_id).exists(), "messages of the channel remain")
            kept = set(Meeting.objects.filter(pk__in=meetings, channel__isnull=True).values_list("pk", flat=True))
            v.expect(kept == meetings, "meetings announced in the channel were not kept with channel = NULL")
            stale = stale_derived(a.company_id)
            v.expect(not stale, f"stale derived fields: {stale}")
            v.no_orphans()
            v.other_tenant_intact(b.company_id, other)
            return v.problems

        return {"channel_id": channel_id}, verify

    candidates = [
        Candidate("channel_raw", "raw DELETE FROM chat_channel", "channel_delete_raw", prepare),
        Candidate("channel_service", "channel_delete (service)", "channel_delete_service", prepare),
        Candidate("channel_collector", "Channel.delete() (collector)", "channel_delete_collector", prepare),
    ]
    results = measure(report, "5. delete a channel", candidates, one_shot("channel_raw"), run.repeat)
    for row in report.rows[-len(candidates) :]:
        row.scenario = f"5. delete a channel with {sizes.get('messages', 0):,} msgs"
    svc, raw = results.get("channel_service"), results.get("channel_raw")
    if svc and raw:
        report.target(
            f"channel delete (no fixed target): channel_delete vs raw: {ratio(svc['wall_s'], raw['wall_s']):.2f}x "
            f"time, {svc['queries']} vs {raw['queries']} queries, {svc['rss_growth_mb']:.1f} MB",
            None,
        )
