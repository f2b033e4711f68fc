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


@dataclass
class Side:
    """The spans of one path in one of the two traces."""

    spans: list[Span] = field(default_factory=list)
    critical: bool = False
    failed: bool = False

    @property
    def duration_ns(self) -> int:
        return sum(s.duration_ns for s in self.spans)


@dataclass
class Node:
    """One path, as it appears in A, in B, or in both."""

    path: Path
    a: Side = field(default_factory=Side)
    b: Side = field(default_factory=Side)
    children: list[Path] = field(default_factory=list)


def depth_first(story: Story) -> list[tuple[Span, int]]:
    """The spans as the waterfall lists them, parents first and children in start order, each
    with the index of its parent (-1 for a root or a span whose parent never arrived)."""
    out: list[tuple[Span, int]] = []
    roots = [s for s in story.spans if story.parent(s) is None]
    stack = [(root, -1) for root in reversed(roots)]
    while stack:
        span, parent = stack.pop()
        out.append((span, parent))
        stack.extend((child, len(out) - 1) for child in reversed(story.children(span)))
    return out


def paths(story: Story) -> list[tuple[Path, Span]]:
    """Every span with its path, parents first."""
    out: list[tuple[Path, Span]] = []
    for span, parent in depth_first(story):
        above = out[parent][0] if parent >= 0 else ()
        out.append(((*above, (span.service, span.name)), span))
    return out


def compare(a: Story, b: Story, labels: tuple[str, str]) -> dict[str, Any]:
    """The comparison of two stories, as `GET /api/compare` returns it."""
    nodes: dict[Path, Node] = {}
    roots: list[Path] = []
    summaries = {}
    for side, story, label in (("a", a, labels[0]), ("b", b, labels[1])):
        on_path = critical_path(story)
        critical: list[Path] = []
        for path, span in paths(story):
            node = _node(nodes, roots, path)
            mine: Side = getattr(node, side)
            mine.spans.append(span)
            mine.failed = mine.failed or story.failed(span)
            if span.ref in on_path:
                mine.critical = True
                critical.append(path)
        summaries[side] = _summary(label, story, list(dict.fromkeys(critical)))
    body: dict[str, Any] = {**summaries, "only_a": [], "only_b": [], "both": []}
    ordered = _depth_first(nodes, roots)
    for position, node in enumerate(ordered):
        kind, entry = _entry(node, position)
        body[kind].append(entry)
    body["diverged_at"] = _divergence(ordered, nodes)
    return body


def _node(nodes: dict[Path, Node], roots: list[Path], path: Path) -> Node:
    node = nodes.get(path)
    if node is None:
        node = nodes[path] = Node(path)
        parent = path[:-1]
        (nodes[parent].children if parent in nodes else roots).append(path)
    return node


def _depth_first(nodes: dict[Path, Node], roots: list[Path]) -> list[Node]:
    out: list[Node] = []
    stack = list(reversed(roots))
    while stack:
        node = nodes[stack.pop()]
        out.append(node)
        stack.extend(reversed(node.children))
    return out


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
        "critical_path": [path_out(p) for p in critical],
    }


def path_out(path: Path) -> Path:
    """A path as JSON: [[service, operation], ...] (tuples serialise as lists, uncopied)."""
    return path


def _entry(node: Node, position: int) -> tuple[str, dict[str, Any]]:
    service, operation = node.path[-1]
    base: dict[str, Any] = {"path": path_out(node.path), "service": service, "operation": operation}
    base |= {"depth": len(node.path) - 1, "position": position}
    if node.a.spans and node.b.spans:
        both = base | _side("a", node.a) | _side("b", node.b)
        return "both", both | {"delta_ns": node.b.duration_ns - node.a.duration_ns}
    kind, side = ("only_a", node.a) if node.a.spans else ("only_b", node.b)
    return kind, base | {k.removeprefix("x_"): v for k, v in _side("x", side).items()}


def _side(prefix: str, side: Side) -> dict[str, Any]:
    first = side.spans[0]
    return {
        f"{prefix}_count": len(side.spans),
        f"{prefix}_duration_ns": side.duration_ns,
        f"{prefix}_failed": side.failed,
        f"{prefix}_critical": side.critical,
        f"{prefix}_trace_id": first.trace_id,
        f"{prefix}_span_id": first.span_id,
    }


def _divergence(ordered: list[Node], nodes: dict[Path, Node]) -> dict[str, Any] | None:
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
        return {"path": path_out(node.path), "reason": reason}
    return None


def _difference(node: Node) -> str | None:
    if not (node.a.spans and node.b.spans):
        return "only_a" if node.a.spans else "only_b"
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
    return next(s for s in story.spans if story.parent(s) is None)


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
    first, second = load.load_traces(store, [a, b], logs=False, links=False)
    body = compare(first, second, (first.trace_ids[0], second.trace_ids[0]))
    return body | {"limits": list(dict.fromkeys(first.limits + second.limits))}


def of_keys(store: Store, key: str, a: str, b: str) -> dict[str, Any]:
    """Two values of a business key (two orders, every trace of each), compared."""
    first, second = (key_story(store, key, v) for v in (a, b))
    body = compare(first, second, (a, b))
    return body | {"key": key, "limits": list(dict.fromkeys(first.limits + second.limits))}
