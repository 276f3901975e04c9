"""The load test's latency chart: p50/p95/p99 of the requests started in each
1-second bucket (by scheduled start, with an offered rate; the latency counts
from it: loadtest/schedule.py), over the run, with the purge marked. Hand-written SVG (no
plotting dependency); the y axis is logarithmic, so that the median and the
tail both stay readable.
"""

import csv
import math
from html import escape
from pathlib import Path

WIDTH, HEIGHT = 960, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 70, 48, 58
SERIES = (("p50", 50, "#1f77b4"), ("p95", 95, "#ff7f0e"), ("p99", 99, "#d62728"))


def _percentile(sorted_values: list[float], p: float) -> float:
    rank = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def write_requests(requests: list[tuple[float, float, str, int, float]], path: Path) -> None:
    """One row per request: start (s since the traffic started; the scheduled
    start with an offered rate), latency (ms, from that start), endpoint,
    status (0: no HTTP answer), service time (ms, from the moment it was sent)."""
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["start_s", "latency_ms", "endpoint", "status", "service_ms"])
        for start, latency, endpoint, status, service in sorted(requests):
            out.writerow([f"{start:.4f}", f"{latency * 1000:.2f}", endpoint, status, f"{service * 1000:.2f}"])


def buckets(requests: list[tuple], seconds: float) -> list[dict]:
    """Per 1-second bucket (by start time): request count and percentiles (ms)."""
    count = max(1, int(seconds))  # a last partial second (the run overshoots a little) joins the bucket before
    by_second: list[list[float]] = [[] for _ in range(count)]
    for start, latency, *_ in requests:
        index = min(count - 1, max(0, int(start)))
        by_second[index].append(latency * 1000)
    rows = []
    for second, values in enumerate(by_second):
        values.sort()
        row = {"second": second, "requests": len(values)}
        for name, p, _colour in SERIES:
            row[name] = _percentile(values, p) if values else None
        rows.append(row)
    return rows


def write_chart(
    requests: list[tuple],
    seconds: float,
    path: Path,
    purge: tuple[float, float, str] | None = None,
    title: str = "Load test: latency per 1-second bucket",
    y_label: str = "latency, ms (log scale)",
) -> None:
    """``requests``: (start s since the traffic started, latency s, endpoint,
    status, ...); ``purge``: (start s, end s, label) or None."""
    rows = buckets(requests, seconds)
    n = len(rows)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [r[name] for r in rows for name, _p, _c in SERIES if r[name]]
    low = 10 ** math.floor(math.log10(max(0.1, min(values)))) if values else 1
    high = 10 ** math.ceil(math.log10(max(values))) if values else 1000
    if high <= low:
        high = low * 10
    max_rps = max((r["requests"] for r in rows), default=1) or 1

    def x(second: float) -> float:
        return LEFT + plot_w * second / n

    def y(ms: float) -> float:
        return TOP + plot_h * (1 - (math.log10(ms) - math.log10(low)) / (math.log10(high) - math.log10(low)))

    def y_rps(rps: float) -> float:
        return TOP + plot_h * (1 - rps / (max_rps * 1.25))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    # requests per second: faint bars, right axis
    for r in rows:
        if r["requests"]:
            top = y_rps(r["requests"])
            out.append(
                f'<rect x="{x(r["second"]) + 1:.1f}" y="{top:.1f}" width="{max(1.0, x(1) - x(0) - 2):.1f}" '
                f'height="{TOP + plot_h - top:.1f}" fill="#e6e6e6"/>'
            )
    # the purge
    if purge is not None:
        start, end, label = purge
        x0 = x(min(max(0.0, start), n))
        x1 = max(x(min(end, n)), x0 + 2)
        out.append(
            f'<rect x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" height="{plot_h}" fill="#9467bd" '
            'fill-opacity="0.18" stroke="#9467bd" stroke-dasharray="4 3"/>'
        )
        out.append(f'<text x="{x0 + 4:.1f}" y="{TOP + 14}" fill="#6a3d9a">{escape(label)}</text>')
    # grid and y axis (ms, log)
    decade = low
    while decade <= high * 1.0001:
        for m in (1, 2, 5):
            ms = decade * m
            if low <= ms <= high * 1.0001:
                yy = y(ms)
                out.append(
                    f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" '
                    f'stroke="{"#bbb" if m == 1 else "#e3e3e3"}" stroke-width="1"/>'
                )
                text = f"{ms:g}" if ms < 1000 else f"{ms / 1000:g} s"
                out.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{text}</text>')
        decade *= 10
    out.append(
        f'<text x="18" y="{TOP + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 18 {TOP + plot_h / 2})">{escape(y_label)}</text>'
    )
    # right axis (requests per second)
    for frac in (0, 0.5, 1):
        rps = max_rps * frac
        yy = y_rps(rps)
        out.append(f'<text x="{LEFT + plot_w + 6}" y="{yy + 4:.1f}" fill="#888">{rps:.0f}</text>')
    out.append(
        f'<text x="{WIDTH - 16}" y="{TOP + plot_h / 2}" text-anchor="middle" fill="#888" '
        f'transform="rotate(90 {WIDTH - 16} {TOP + plot_h / 2})">requests started per second (bars)</text>'
    )
    # x axis
    step = max(1, math.ceil(n / 15))
    for second in range(0, n + 1, step):
        xx = x(second)
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 4}" stroke="#333"/>')
        out.append(f'<text x="{xx:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{second}</text>')
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 14}" text-anchor="middle">'
        "seconds since the traffic started (requests bucketed by start time)</text>"
    )
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    # the percentile lines
    for name, _p, colour in SERIES:
        points = [(x(r["second"] + 0.5), y(r[name])) for r in rows if r[name]]
        if points:
            path_d = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            out.append(f'<polyline points="{path_d}" fill="none" stroke="{colour}" stroke-width="2"/>')
    # legend
    lx = LEFT + 10
    out.append(
        f'<rect x="{lx - 4}" y="{TOP + plot_h - 26}" width="{70 * len(SERIES)}" height="22" '
        'fill="white" fill-opacity="0.85"/>'
    )
    for name, _p, colour in SERIES:
        out.append(
            f'<line x1="{lx}" x2="{lx + 22}" y1="{TOP + plot_h - 14}" y2="{TOP + plot_h - 14}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        out.append(f'<text x="{lx + 27}" y="{TOP + plot_h - 10}">{name}</text>')
        lx += 70
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")
