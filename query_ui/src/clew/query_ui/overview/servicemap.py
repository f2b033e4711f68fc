"""The service map: services as nodes, calls as edges (client -> server, Kafka via topics)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from clew.common.store import Store
from clew.query_ui.overview import queries as q
from clew.query_ui.overview.figures import figures
from clew.query_ui.overview.ranges import Range
from clew.query_ui.read.load import run

KINDS = ("http", "grpc", "kafka", "other")


def service_map(store: Store, period: Range, service: str = "") -> dict[str, Any]:
    """{"nodes": [...], "edges": [...]} of the range, in the API's shape; with `service`,
    only its edges (and no nodes: the service page shows no graph)."""
    params = period.parameters() | {"service": service}
    rows = [] if service else run(store, q.SERVICE_COUNTS, params)
    nodes = {
        str(row["ServiceName"]): {"name": str(row["ServiceName"]), **_counts(row, "Requests")}
        for row in rows
    }
    edges = [_call_edge(row) for row in run(store, q.EDGES, params)]
    edges += kafka_edges(run(store, q.TOPICS, params))
    for edge in edges:
        for end in (edge["source"], edge["target"]):
            if end and end not in nodes:  # an uninstrumented peer: what its callers saw
                nodes[end] = {"name": end, "requests": 0, "errors": 0, "external": True}
    for name, node in nodes.items():
        node.setdefault("external", False)
        if node["external"]:
            node["requests"] = sum(e["calls"] for e in edges if e["target"] == name)
            node["errors"] = sum(e["errors"] for e in edges if e["target"] == name)
    ordered = sorted(edges, key=lambda e: (e["source"], e["target"], e["kind"], e["topic"]))
    return {"nodes": sorted(nodes.values(), key=lambda n: n["name"]), "edges": ordered}


def _counts(row: dict[str, Any], count: str) -> dict[str, int]:
    return {"requests": int(row[count]), "errors": int(row["Errors"])}


def _edge(
    source: str, target: str, kind: str, topic: str, row: dict[str, Any], count: str
) -> dict[str, Any]:
    values = figures(row, count)
    return {
        "source": source,
        "target": target,
        "kind": kind if kind in KINDS else "other",
        "topic": topic,
        "calls": values["requests"],
        "errors": values["errors"],
        "error_rate": values["error_rate"],
        "p50_ms": values["p50_ms"],
        "p99_ms": values["p99_ms"],
    }


def _call_edge(row: dict[str, Any]) -> dict[str, Any]:
    return _edge(str(row["Source"]), str(row["Target"]), str(row["Kind"]), "", row, "Calls")


def kafka_edges(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Producer -> consumer of each topic, with the consumer's figures; a topic nobody
    consumed is an edge to no one (target ""), one nobody produced an edge from no one."""
    producers: dict[str, list[str]] = defaultdict(list)
    consumers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        topic = str(row["Topic"])
        if row["Side"] == "producer":
            producers[topic].append(str(row["ServiceName"]))
        else:
            consumers[topic].append(row)
    unconsumed = {"ServiceName": "", "Messages": 0, "Errors": 0, "Latency": []}
    return [
        _edge(producer, str(consumer["ServiceName"]), "kafka", topic, consumer, "Messages")
        for topic in sorted(set(producers) | set(consumers))
        for producer in producers.get(topic) or [""]
        for consumer in consumers.get(topic) or [unconsumed]
    ]
