"""The lineage as a picture: a server-rendered SVG of every table under
``Company`` (the admin's integrity page, docs/integrity.md).

No script and no external resource: a layered drawing computed here from
``lineage.tenant_models()`` / ``tenant_edges()``. Tables are placed in layers
by their longest FK path from ``Company`` (so every edge points down), edges
that skip layers are routed through reserved gaps (Sugiyama-style dummy
points) so that no line crosses a box, and the order within a layer comes
from a few barycentre sweeps. Each table is a box linking to its admin
changelist; each edge is labelled with its ``ON DELETE`` action, its tooltip
naming the FK column. Colours and fonts come from classes (``integrity.css``):
no inline style.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from workspace.db.lineage import Edge, root_model, tenant_edges, tenant_models

BOX_W, BOX_H = 236, 48
#: Room kept right of a box whose table refers to itself (the loop and its label).
SELF_W = 120
GAP_W, DUMMY_W = 28, 14
LAYER_GAP = 96
MARGIN = 24


@dataclass(eq=False)
class _Item:
    """A box (a table) or a dummy point (an edge passing through a layer)."""

    layer: int
    model: type | None = None
    edge: Edge | None = None
    up: list[_Item] = field(default_factory=list)
    down: list[_Item] = field(default_factory=list)
    x: float = 0.0
    order: float = 0.0
    extra: float = 0.0

    @property
    def width(self) -> float:
        return BOX_W + self.extra if self.model is not None else DUMMY_W

    @property
    def cx(self) -> float:
        """The centre of the box (``x`` is the centre of its slot)."""
        return self.x - self.extra / 2


def _layers(models, edges) -> dict[type, int]:
    """Longest path from the root: every non-self edge goes strictly down."""
    layer = {m: 0 for m in models}
    for _ in range(len(models)):
        changed = False
        for e in edges:
            if not e.is_self and layer[e.child] < layer[e.parent] + 1:
                layer[e.child] = layer[e.parent] + 1
                changed = True
        if not changed:
            break
    return layer


def layout(models=None, edges=None):
    """Positions of every box and the route of every edge (pure; tested)."""
    models = list(tenant_models() if models is None else models)
    edges = list(tenant_edges() if edges is None else edges)
    layer_of = _layers(models, edges)
    depth = max(layer_of.values(), default=0)
    rows: list[list[_Item]] = [[] for _ in range(depth + 1)]
    boxes: dict[type, _Item] = {}
    for m in models:
        boxes[m] = _Item(layer_of[m], model=m, extra=SELF_W if any(e.is_self and e.child is m for e in edges) else 0)
        rows[layer_of[m]].append(boxes[m])
    chains: dict[Edge, list[_Item]] = {}
    for e in edges:
        if e.is_self:
            continue
        chain = [boxes[e.parent]]
        for layer in range(layer_of[e.parent] + 1, layer_of[e.child]):
            dummy = _Item(layer, edge=e)
            rows[layer].append(dummy)
            chain.append(dummy)
        chain.append(boxes[e.child])
        for upper, lower in zip(chain, chain[1:]):
            upper.down.append(lower)
            lower.up.append(upper)
        chains[e] = chain

    def number(row):
        for index, item in enumerate(row):
            item.order = index

    for row in rows:
        number(row)
    # Barycentre sweeps: down (order by the parents), then up (by the children).
    for _ in range(6):
        for row in rows[1:]:
            row.sort(key=lambda it: sum(u.order for u in it.up) / len(it.up) if it.up else it.order)
            number(row)
        for row in reversed(rows[:-1]):
            row.sort(key=lambda it: sum(d.order for d in it.down) / len(it.down) if it.down else it.order)
            number(row)

    widths = [sum(it.width for it in row) + GAP_W * max(len(row) - 1, 0) for row in rows]
    canvas_w = max(widths, default=BOX_W) + 2 * MARGIN
    for row, width in zip(rows, widths):
        x = (canvas_w - width) / 2
        for item in row:
            item.x = x + item.width / 2  # centre
            x += item.width + GAP_W
    # Pull each row towards its neighbours while keeping order and spacing.
    for _ in range(4):
        for row in rows[1:] + list(reversed(rows[:-1])):
            _relax(row, canvas_w)
    return rows, boxes, chains, canvas_w, (depth + 1) * (BOX_H + LAYER_GAP) - LAYER_GAP + 2 * MARGIN + 12


def _relax(row: list[_Item], canvas_w: float) -> None:
    wanted = []
    for item in row:
        neighbours = item.up + item.down
        wanted.append(sum(n.cx for n in neighbours) / len(neighbours) + item.extra / 2 if neighbours else item.x)
    # Left to right: no overlap, then right to left: stay on the canvas.
    xs = []
    for item, want in zip(row, wanted):
        lo = MARGIN + item.width / 2 if not xs else xs[-1][0] + xs[-1][1].width / 2 + GAP_W + item.width / 2
        xs.append((max(want, lo), item))
    hi = canvas_w - MARGIN
    for index in range(len(xs) - 1, -1, -1):
        x, item = xs[index]
        x = min(x, hi - item.width / 2)
        xs[index] = (x, item)
        hi = x - item.width / 2 - GAP_W
    for x, item in xs:
        item.x = x


def _y(layer: int) -> float:
    return MARGIN + layer * (BOX_H + LAYER_GAP)


def _ports(items: list[_Item], sides: dict, key, x_of) -> None:
    """Spread the edges leaving (or entering) a box along its side."""
    for item, edges in sides.items():
        edges.sort(key=key)
        for index, e in enumerate(edges):
            x_of[(id(item), e)] = item.cx - BOX_W / 2 + BOX_W * (index + 1) / (len(edges) + 1)


def _cubic(p, q) -> str:
    dy = (q[1] - p[1]) / 2
    return f"C {p[0]:.1f} {p[1] + dy:.1f} {q[0]:.1f} {q[1] - dy:.1f} {q[0]:.1f} {q[1]:.1f}"


def _point(p, q, t: float):
    dy = (q[1] - p[1]) / 2
    c1, c2 = (p[0], p[1] + dy), (q[0], q[1] - dy)
    s = 1 - t
    x = s**3 * p[0] + 3 * s * s * t * c1[0] + 3 * s * t * t * c2[0] + t**3 * q[0]
    y = s**3 * p[1] + 3 * s * s * t * c1[1] + 3 * s * t * t * c2[1] + t**3 * q[1]
    return x, y


def _fk(e: Edge) -> str:
    """``chat_message (company_id, channel_id) -> chat_channel (company_id, id)``."""
    return f"{e.table} ({', '.join(e.columns)}) -> {e.parent_table} ({', '.join(e.parent_columns)})"


def _kind(edge: Edge) -> str:
    return "cascade" if edge.db_action == "CASCADE" else ("setnull" if edge.db_action == "SET NULL" else "other")


def lineage_svg(
    url_for: Callable[[type], str | None] = lambda model: None,
    counts: dict[type, int] | None = None,
) -> SafeString:
    """The SVG element (safe HTML). ``url_for(model)``: the box's link or
    None; ``counts``: rows per table shown in the boxes."""
    rows, boxes, chains, width, height = layout()
    out_ports: dict = {}
    in_ports: dict = {}
    for e, chain in chains.items():
        out_ports.setdefault(chain[0], []).append(e)
        in_ports.setdefault(chain[-1], []).append(e)
    port_x: dict = {}
    _ports([], out_ports, lambda e: chains[e][1].cx, port_x)
    _ports([], in_ports, lambda e: chains[e][-2].cx, port_x)

    edge_parts, label_parts = [], []
    for n, (e, chain) in enumerate(sorted(chains.items(), key=lambda kv: (kv[0].table, kv[0].column))):
        first, last = chain[0], chain[-1]
        points = [(port_x[(id(first), e)], _y(first.layer) + BOX_H)]
        for dummy in chain[1:-1]:
            points += [(dummy.x, _y(dummy.layer)), (dummy.x, _y(dummy.layer) + BOX_H)]
        points.append((port_x[(id(last), e)], _y(last.layer) - 3))
        d = [f"M {points[0][0]:.1f} {points[0][1]:.1f}"]
        for i in range(1, len(points)):
            if i % 2 == 0:  # straight through a dummy's layer
                d.append(f"L {points[i][0]:.1f} {points[i][1]:.1f}")
            else:
                d.append(_cubic(points[i - 1], points[i]))
        kind = _kind(e)
        tip = f"{_fk(e)}: ON DELETE {e.db_action} ({e.label}, on_delete={e.on_delete})"
        edge_parts.append(
            format_html(
                '<path class="edge {}" d="{}" marker-end="url(#arrow-{})" data-fk="{}"><title>{}</title></path>',
                kind,
                " ".join(d),
                kind,
                f"{e.table}.{e.column}",
                tip,
            )
        )
        # The label sits on the last stretch, staggered so neighbours do not collide.
        lx, ly = _point(points[-2], points[-1], 0.55 + 0.15 * (n % 3) / 2)
        text = e.db_action
        label_w = 6.2 * len(text) + 8
        label_parts.append(
            format_html(
                '<g class="edge-label {}"><title>{}</title><rect x="{}" y="{}" width="{}" height="14" rx="3"></rect>'
                '<text x="{}" y="{}">{}</text></g>',
                kind,
                tip,
                f"{lx - label_w / 2:.1f}",
                f"{ly - 7:.1f}",
                f"{label_w:.1f}",
                f"{lx:.1f}",
                f"{ly + 4:.1f}",
                text,
            )
        )
    for e in tenant_edges():
        if not e.is_self:
            continue
        box = boxes[e.child]
        x0, y0 = box.cx + BOX_W / 2, _y(box.layer) + BOX_H * 0.3
        y1 = _y(box.layer) + BOX_H * 0.7
        kind = _kind(e)
        tip = f"{_fk(e)}: ON DELETE {e.db_action} ({e.label}, on_delete={e.on_delete})"
        edge_parts.append(
            format_html(
                '<path class="edge {}" d="M {} {} C {} {} {} {} {} {}" marker-end="url(#arrow-{})" data-fk="{}"><title>{}</title></path>',
                kind,
                f"{x0:.1f}",
                f"{y0:.1f}",
                f"{x0 + 36:.1f}",
                f"{y0 - 14:.1f}",
                f"{x0 + 36:.1f}",
                f"{y1 + 14:.1f}",
                f"{x0 + 3:.1f}",
                f"{y1:.1f}",
                kind,
                f"{e.table}.{e.column}",
                tip,
            )
        )
        text = f"{e.db_action} ({e.column})"  # the loop: the column says which FK
        label_w = 6.2 * len(text) + 8
        width = max(width, x0 + 44 + label_w + MARGIN)
        label_parts.append(
            format_html(
                '<g class="edge-label {}"><title>{}</title><rect x="{}" y="{}" width="{}" height="14" rx="3"></rect>'
                '<text x="{}" y="{}">{}</text></g>',
                kind,
                tip,
                f"{x0 + 40:.1f}",
                f"{(y0 + y1) / 2 - 7:.1f}",
                f"{label_w:.1f}",
                f"{x0 + 40 + label_w / 2:.1f}",
                f"{(y0 + y1) / 2 + 4:.1f}",
                text,
            )
        )

    box_parts = []
    root = root_model()
    for model, item in boxes.items():
        x, y = item.cx - BOX_W / 2, _y(item.layer)
        opts = model._meta
        sub = opts.label + (f" \u00b7 {counts[model]:,} rows" if counts is not None and model in counts else "")
        inner = format_html(
            '<rect class="box{}" x="{}" y="{}" width="{}" height="{}" rx="6"></rect>'
            '<text class="table" x="{}" y="{}">{}</text><text class="model" x="{}" y="{}">{}</text>',
            " root" if model is root else "",
            f"{x:.1f}",
            f"{y:.1f}",
            BOX_W,
            BOX_H,
            f"{item.cx:.1f}",
            f"{y + 20:.1f}",
            opts.db_table,
            f"{item.cx:.1f}",
            f"{y + 37:.1f}",
            sub,
        )
        url = url_for(model)
        if url:
            box_parts.append(
                format_html(
                    '<a class="node" href="{}" data-table="{}"><title>{} changelist</title>{}</a>',
                    url,
                    opts.db_table,
                    opts.label,
                    inner,
                )
            )
        else:
            box_parts.append(
                format_html(
                    '<g class="node unlinked" data-table="{}"><title>{} (not in the admin)</title>{}</g>',
                    opts.db_table,
                    opts.label,
                    inner,
                )
            )

    markers = format_html_join(
        "",
        '<marker id="arrow-{}" class="arrow {}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"></path></marker>',
        ((k, k) for k in ("cascade", "setnull", "other")),
    )
    return format_html(
        '<svg class="lineage" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-labelledby="lineage-title"><title id="lineage-title">Lineage of every table under {}: '
        "arrows go from the referenced table to the table holding the foreign key, labelled with the ON DELETE action</title>"
        '<defs>{}</defs><g class="edges">{}</g><g class="nodes">{}</g><g class="labels">{}</g></svg>',
        f"{width:.0f}",
        f"{height:.0f}",
        f"{width:.0f}",
        f"{height:.0f}",
        root._meta.db_table,
        markers,
        mark_safe("".join(edge_parts)),
        mark_safe("".join(box_parts)),
        mark_safe("".join(label_parts)),
    )
