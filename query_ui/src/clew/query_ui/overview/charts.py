"""The small charts and the service map, drawn on the server as SVG coordinates.

No chart library: a sparkline is one polyline, the map a layered drawing (callers left of
callees, Kafka topics between producers and consumers), readable up to a few dozen services.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from clew.query_ui.filters import segment

WIDTH, HEIGHT = 120, 28
COLUMN, ROW, NODE_W, NODE_H, MARGIN = 230, 64, 170, 40, 20
UNHEALTHY_RATE = 0.05
"""An error rate from which a node or edge is drawn as unhealthy."""


def sparkline(values: Sequence[float], width: int = WIDTH, height: int = HEIGHT) -> str:
    """The `points` of an SVG polyline over `values`, scaled to the box."""
    if not values:
        return ""
    top = max(max(values), 1e-9)
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{n * step:.1f},{height - 1 - (v / top) * (height - 2):.1f}" for n, v in enumerate(values)
    )


@dataclass
class Drawing:
    """Boxes and arrows of the map, in SVG user units."""

    width: int
    height: int
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)


def layout(service_map: dict[str, Any]) -> Drawing:
    """Place the map's services (and topics) in columns by the longest chain of calls."""
    links = _links(service_map["edges"])
    names = [n["name"] for n in service_map["nodes"]]
    names += sorted(
        {t for _, t, _ in links if t not in names} | {s for s, _, _ in links} - set(names)
    )
    column = _columns(names, [(s, t) for s, t, _ in links])
    rows: dict[int, int] = defaultdict(int)
    place: dict[str, tuple[int, int]] = {}
    for name in sorted(names, key=lambda n: (column[n], n)):
        place[name] = (MARGIN + column[name] * COLUMN, MARGIN + rows[column[name]] * ROW)
        rows[column[name]] += 1
    drawing = Drawing(
        width=MARGIN * 2 + (max(column.values(), default=0)) * COLUMN + NODE_W,
        height=MARGIN * 2 + max(rows.values(), default=1) * ROW,
    )
    by_name = {n["name"]: n for n in service_map["nodes"]}
    for name in names:
        drawing.nodes.append(_node(name, place[name], by_name.get(name)))
    for source, target, edge in links:
        drawing.edges.append(_arrow(place[source], place[target], edge))
    return drawing


def _links(edges: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """Map edges as arrows; a Kafka edge goes through its topic's node (`topic:NAME`)."""
    links = []
    for edge in edges:
        if edge["kind"] != "kafka":
            links.append((edge["source"], edge["target"], edge))
            continue
        topic = "topic:" + edge["topic"]
        if edge["source"]:
            links.append((edge["source"], topic, edge | {"calls": None}))
        if edge["target"]:
            links.append((topic, edge["target"], edge))
    return list({(s, t): (s, t, e) for s, t, e in links}.values())


def _columns(names: list[str], pairs: list[tuple[str, str]]) -> dict[str, int]:
    """Longest chain of calls from a node nobody calls, once the calls closing a cycle (found
    depth first from the roots, then from the rest) are set aside."""
    out: dict[str, list[str]] = defaultdict(list)
    for source, target in pairs:
        if source != target:
            out[source].append(target)
    called = {t for _, t in pairs}
    forward: list[tuple[str, str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str) -> None:
        state[node] = 1
        for target in out[node]:
            if state.get(target) != 1:  # an edge back onto the path closes a cycle
                forward.append((node, target))
                if target not in state:
                    visit(target)
        state[node] = 2

    for start in [n for n in names if n not in called] + names:
        if start not in state:
            visit(start)
    column = dict.fromkeys(names, 0)
    for _ in names:  # a DAG's longest path settles in at most len(names) rounds
        moved = [(s, t) for s, t in forward if column[t] < column[s] + 1]
        if not moved:
            break
        for source, target in moved:
            column[target] = max(column[target], column[source] + 1)
    return column


def _node(name: str, at: tuple[int, int], node: dict[str, Any] | None) -> dict[str, Any]:
    topic = name.startswith("topic:")
    requests = int(node["requests"]) if node else 0
    errors = int(node["errors"]) if node else 0
    external = bool(node and node.get("external"))
    return {
        "name": name.removeprefix("topic:"),
        "x": at[0],
        "y": at[1],
        "kind": "topic" if topic else ("external" if external else "service"),
        "unhealthy": bool(requests and errors / requests >= UNHEALTHY_RATE),
        "label": "" if topic else f"{requests} req · {errors} err",
        "url": "" if topic or external else f"/services/{segment(name)}",
    }


def _arrow(a: tuple[int, int], b: tuple[int, int], edge: dict[str, Any]) -> dict[str, Any]:
    calls = edge["calls"]
    rate = edge["errors"] / calls if calls else 0.0
    search = f"/search?service={segment(edge['source'])}" if edge["source"] else ""
    return {
        "x1": a[0] + NODE_W,
        "y1": a[1] + NODE_H // 2,
        "x2": b[0],
        "y2": b[1] + NODE_H // 2,
        "kind": edge["kind"],
        "unhealthy": rate >= UNHEALTHY_RATE,
        "label": "" if calls is None else f"{calls} · {edge['p99_ms']:.3g} ms p99",
        "url": search,
    }
