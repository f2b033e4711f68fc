"""The map's layout and the sparklines, drawn on the server."""

from __future__ import annotations

from typing import Any

from clew.query_ui.overview.charts import NODE_H, NODE_W, layout, sparkline


def _edge(source: str, target: str, kind: str = "http", topic: str = "") -> dict[str, Any]:
    return {"source": source, "target": target, "kind": kind, "topic": topic, "calls": 5,
            "errors": 1 if target == "db-3" else 0, "p99_ms": 12.0}  # fmt: skip


def _thirty() -> dict[str, Any]:
    """30 services: a gateway, 9 middle services, 20 backends, a cycle and a Kafka topic."""
    middle = [f"mid-{n}" for n in range(9)]
    back = [f"db-{n}" for n in range(20)]
    edges = [_edge("gateway", m) for m in middle]
    edges += [_edge(middle[n % 9], b) for n, b in enumerate(back)]
    edges += [_edge("db-0", "mid-0"), _edge("mid-1", "db-1", "kafka", "events")]
    nodes = [{"name": n, "requests": 10, "errors": 0} for n in ["gateway", *middle, *back]]
    return {"nodes": nodes, "edges": edges}


def test_thirty_services_are_laid_out_in_a_few_columns_without_overlap() -> None:
    drawing = layout(_thirty())
    boxes = [(n["x"], n["y"]) for n in drawing.nodes]
    assert len(boxes) == 31  # 30 services and the topic
    for i, (x, y) in enumerate(boxes):
        for x2, y2 in boxes[i + 1 :]:
            assert abs(x - x2) >= NODE_W or abs(y - y2) >= NODE_H, ((x, y), (x2, y2))
    assert len({x for x, _ in boxes}) <= 4  # gateway, middle, backends (+ the topic's column)
    gateway = next(n for n in drawing.nodes if n["name"] == "gateway")
    assert gateway["x"] == min(x for x, _ in boxes) and gateway["url"] == "/services/gateway"
    assert any(e["unhealthy"] for e in drawing.edges)  # the edge into db-3 fails 1 in 5
    assert any(e["kind"] == "kafka" for e in drawing.edges)


def test_a_sparkline_spans_its_box() -> None:
    points = sparkline([0, 5, 10], width=100, height=20).split()
    assert points[0] == "0.0,19.0" and points[-1] == "100.0,1.0"
    assert sparkline([]) == ""
    assert sparkline([0, 0]) == "0.0,27.0 120.0,27.0"  # nothing happened: the bottom line
