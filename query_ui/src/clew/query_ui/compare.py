"""Two traces (or two orders' stories) side by side: span trees aligned by their path of
service and operation from the root, so what ran only in one, what failed only in one and what
took longer stands out.

Like Jaeger's trace diff, spans with the same path merge into one node (a retried call is one
node with a count of two); unlike it, the result is plain JSON that a page, the API and an agent
read alike. Failed and the critical path come from the read model (read/story.py, read/critical.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clew.common.store import Store
from clew.query_ui.errors import NotFoundError
from clew.query_ui.read import load
from clew.query_ui.read import queries as q
from clew.query_ui.read.critical import critical_path
from clew.query_ui.read.format import rfc3339
from clew.query_ui.read.model import Span
from clew.query_ui.read.story import Story

Path = tuple[tuple[str, str], ...]  # ((service, operation), ...) from the root down


@dataclass(slots=True)  # slots: a comparison of two 1,500-span traces makes ~3,000 of each
class Side:
    """The spans of one path in one of the two traces: how many, their total duration, and the
    first of them (the one a link opens)."""

    count: int = 0
    duration_ns: int = 0
    failed: bool = False
    critical: bool = False
    first: Span | None = None


@dataclass(slots=True)
class Node:
    """One path, as it appears in A, in B, or in both."""

    path: Path
    a: Side = field(default_factory=Side)
    b: Side = field(default_factory=Side)
    children: list[int] = field(default_factory=list)
    """Indexes of the nodes one step below, in the order first met."""


class _Tree:
    """The merged tree of both stories: a node per path, found by (node above, service,
    operation) so no span's whole path is built or hashed, only each node's once."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.roots: list[int] = []
        self._index: dict[tuple[int, str, str], int] = {}

    def add(self, story: Story, side: str) -> list[int]:
        """Every span of `story` into its path's node on `side`; the critical path's nodes."""
        on_path = critical_path(story)
        failed = {span.ref for span in story.failed_spans()}  # made once for the whole loop
        critical: list[int] = []
        node_at: list[int] = []  # depth_first position -> node
        index, nodes, on_a = self._index, self.nodes, side == "a"
        # Side.add written out: this loop runs once per span of both traces.
        for span, parent in story.depth_first():
            key = (node_at[parent] if parent >= 0 else -1, span.service, span.name)
            number = index.get(key)
            if number is None:
                number = self._node(key)
            node_at.append(number)
            ref, node = span.ref, nodes[number]
            here = node.a if on_a else node.b
            if here.first is None:
                here.first = span
            here.count += 1
            here.duration_ns += span.duration_ns
            if ref in failed:
                here.failed = True
            if ref in on_path:
                here.critical = True
                critical.append(number)
        return list(dict.fromkeys(critical))

    def _node(self, key: tuple[int, str, str]) -> int:
        """A new node for (node above, service, operation)."""
        above, service, operation = key
        number = self._index[key] = len(self.nodes)
        path = (self.nodes[above].path if above >= 0 else ()) + ((service, operation),)
        self.nodes.append(Node(path))
        (self.nodes[above].children if above >= 0 else self.roots).append(number)
        return number

    def depth_first(self) -> list[Node]:
        out: list[Node] = []
        stack = list(reversed(self.roots))
        while stack:
            node = self.nodes[stack.pop()]
            out.append(node)
            stack.extend(reversed(node.children))
        return out


def compare(a: Story, b: Story, labels: tuple[str, str]) -> dict[str, Any]:
    """The comparison of two stories, as `GET /api/compare` returns it."""
    tree = _Tree()
    summaries = {}
    for side, story, label in (("a", a, labels[0]), ("b", b, labels[1])):
        critical = tree.add(story, side)
        summaries[side] = _summary(label, story, [tree.nodes[n].path for n in critical])
    body: dict[str, Any] = {**summaries, "only_a": [], "only_b": [], "both": []}
    ordered = tree.depth_first()
    for position, node in enumerate(ordered):
        kind, entry = _entry(node, position)
        body[kind].append(entry)
    body["diverged_at"] = _divergence(ordered, tree.nodes)
    return body


def _summary(label: str, story: Story, critical: list[Path]) -> dict[str, Any]:
    start = min((s.start_ns for s in story.spans), default=0)
    end = max((s.end_ns for s in story.spans), default=0)
    return {
        "id": label,
        "trace_ids": list(story.trace_ids),
        "start": rfc3339(start),
        "duration_ns": end - start,
        "span_count": len(story.spans),
        "failed_count": len(story.failed_spans()),
        "critical_path": critical,  # [[service, operation], ...] each: tuples serialise as lists
    }


def _entry(node: Node, position: int) -> tuple[str, dict[str, Any]]:
    """The node as the API writes it. One dict display per case, not a key at a time: a
    comparison writes thousands of entries, and the displays took half the time."""
    path, a, b = node.path, node.a, node.b
    service, operation = path[-1]
    if a.first is not None and b.first is not None:
        return "both", {
            "path": path, "service": service, "operation": operation,
            "depth": len(path) - 1, "position": position,
            "a_count": a.count, "a_duration_ns": a.duration_ns, "a_failed": a.failed,
            "a_critical": a.critical, "a_trace_id": a.first.trace_id,
            "a_span_id": a.first.span_id,
            "b_count": b.count, "b_duration_ns": b.duration_ns, "b_failed": b.failed,
            "b_critical": b.critical, "b_trace_id": b.first.trace_id,
            "b_span_id": b.first.span_id,
            "delta_ns": b.duration_ns - a.duration_ns,
        }  # fmt: skip
    kind, side = ("only_a", a) if a.first is not None else ("only_b", b)
    assert side.first is not None  # a node has a span on at least one side
    return kind, {
        "path": path, "service": service, "operation": operation,
        "depth": len(path) - 1, "position": position,
        "count": side.count, "duration_ns": side.duration_ns, "failed": side.failed,
        "critical": side.critical, "trace_id": side.first.trace_id,
        "span_id": side.first.span_id,
    }  # fmt: skip


def _divergence(ordered: list[Node], nodes: list[Node]) -> dict[str, Any] | None:
    """Where the two part ways: top down, the first path that ran in one only, or that failed
    in one only while none of its children did (a failure passed up is not where it began)."""
    for node in ordered:
        reason = _difference(node)
        if reason is None:
            continue
        if reason.startswith("failed") and any(
            _difference(nodes[c]) == reason for c in node.children
        ):
            continue
        return {"path": node.path, "reason": reason}
    return None


def _difference(node: Node) -> str | None:
    if not (node.a.count and node.b.count):
        return "only_a" if node.a.count else "only_b"
    if node.a.failed != node.b.failed:
        return "failed_in_a" if node.a.failed else "failed_in_b"
    return None


# The nearest succeeded order: same entry operation (the service and name of the story's first
# root span), closest start, no failed span (read/queries.py's NEAREST_SUCCEEDED leaves out every
# value with a row in the failed-span index); the chosen story is checked again through the read
# model before it is returned.
WINDOW_NS = 24 * 3600 * 10**9  # "close in time": the nearest within a day either side
CANDIDATES = 5


def key_story(store: Store, key: str, value: str) -> Story:
    """The story of a business key value, as the order page reads it."""
    story = load.load_story(store, key, value)
    if not story:
        raise NotFoundError(f"nothing was found for {key} = {value!r}")
    return story


def entry(story: Story) -> Span:
    """The story's entry: its first root span."""
    return story.roots()[0]


def nearest_succeeded(store: Store, key: str, value: str) -> dict[str, Any]:
    """The nearest value of `key` with the same entry operation and no failed span."""
    first = entry(key_story(store, key, value))
    params: dict[str, Any] = {"key": key, "value": value, "at_ns": first.start_ns}
    params |= {"start_ns": first.start_ns - WINDOW_NS, "end_ns": first.start_ns + WINDOW_NS}
    params |= {"service": first.service, "operation": first.name, "limit": CANDIDATES}
    for row in load.run(store, q.NEAREST_SUCCEEDED, params):
        if not key_story(store, key, str(row["value"])).failed_spans():
            return {
                "key": key,
                "value": value,
                "entry": {"service": first.service, "operation": first.name},
                "match": {"value": str(row["value"]), "trace_id": str(row["trace_id"]),
                          "distance_ns": int(row["distance_ns"])},
            }  # fmt: skip
    raise NotFoundError(
        f"no {key} with the entry operation {first.service} {first.name!r} succeeded "
        "within a day of this one"
    )


def of_traces(store: Store, a: str, b: str) -> dict[str, Any]:
    """Two traces by id, compared."""
    first, second = load.load_traces(store, [a, b], logs=False, links=False, resource=False)
    body = compare(first, second, (first.trace_ids[0], second.trace_ids[0]))
    return body | {"limits": list(dict.fromkeys(first.limits + second.limits))}


def of_keys(store: Store, key: str, a: str, b: str) -> dict[str, Any]:
    """Two values of a business key (two orders, every trace of each), compared."""
    first, second = (key_story(store, key, v) for v in (a, b))
    body = compare(first, second, (a, b))
    return body | {"key": key, "limits": list(dict.fromkeys(first.limits + second.limits))}
