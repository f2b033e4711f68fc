"""The API's JSON as text for a terminal: diagnosis, trace waterfall, search results."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from clew.query_ui.read.format import duration

BAR_WIDTH = 40
LABEL_WIDTH = 48


def diagnosis(d: dict[str, Any]) -> str:
    """A diagnosis for a person: verdict, summary, causes with evidence, cascade."""
    lines = [f"{d['key']} {d['value']}: {str(d['status']).upper()}", "", str(d["summary"]), ""]
    for number, cause in enumerate(d.get("root_causes", []), start=1):
        lines.append(f"{number}. {cause['service']} '{cause['span_name']}' at {cause['time']}")
        lines.append(f"   {cause['error_type']}: {cause['message']}")
        lines.append(f"   trace {cause['trace_id']} span {cause['span_id']}")
        lines += [f"   - {_evidence(item)}" for item in cause.get("evidence", [])]
        lines.append("")
    if d.get("cascade"):
        lines.append("Cascade:")
        lines += [f"  {c['service']} '{c['span_name']}': {c['reason']}" for c in d["cascade"]]
        lines.append("")
    if d.get("recoveries"):
        lines.append("Recovered:")
        lines += [f"  {r['service']} '{r['span_name']}': {r['reason']}" for r in d["recoveries"]]
        lines.append("")
    lines.append("Traces: " + ", ".join(d.get("traces", [])))
    return "\n".join(lines).rstrip() + "\n"


def _evidence(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    kind = item.get("kind", "")
    if kind == "reason":
        return f"why: {item.get('text', '')}"
    if kind == "log":
        return f"log {item.get('severity', '')} {item.get('service', '')}: {item.get('body', '')}"
    if kind == "exception":
        stack = str(item.get("stacktrace", "")).strip().replace("\n", "\n       ")
        head = f"exception {item.get('type', '')}: {item.get('message', '')}"
        return head + (f"\n       {stack}" if stack else "")
    if kind == "db.statement":
        return f"{item.get('system') or 'db'} statement: {item.get('statement', '')}"
    rest = ", ".join(f"{k}={v}" for k, v in sorted(item.items()) if k != "kind")
    return f"{kind}: {rest}" if kind else rest


def waterfall(trace: dict[str, Any], logs: list[dict[str, Any]]) -> str:
    """Spans as indented lines on a time bar, failures and critical path marked, logs under."""
    spans = trace["spans"]
    start = min(s["start_unix_nano"] for s in spans)
    end = max(s["start_unix_nano"] + s["duration_ns"] for s in spans)
    total = max(end - start, 1)
    critical = set(trace.get("critical_path", []))
    by_span: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for log in logs:
        by_span[log["span_id"]].append(log)
    lines = [f"trace {trace['trace_id']}  {duration(total)}  {len(spans)} spans", ""]
    lines += [f"! {p} never arrived (parent missing)" for p in trace.get("missing_parents", [])]
    for span in spans:
        lines.append(_span_line(span, start, total, span["span_id"] in critical))
        indent = "  " * (span.get("depth", 0) + 2)
        if span.get("exception"):
            exc = span["exception"]
            lines.append(f"{indent}{exc['type']}: {exc['message']}")
        for log in by_span.get(span["span_id"], []):
            lines.append(f"{indent}{log['time']} {log['severity']} {log['body']}")
    lines += [_hop_line(hop) for hop in trace.get("hops", [])]
    lines.append("")
    lines.append("✖ failed   * critical path")
    return "\n".join(lines) + "\n"


def _span_line(span: dict[str, Any], start: int, total: int, critical: bool) -> str:
    mark = ("✖" if span["failed"] else " ") + ("*" if critical else " ")
    label = "  " * span.get("depth", 0) + f"{span['service']}: {span['name']}"
    label = label[: LABEL_WIDTH - 1].ljust(LABEL_WIDTH)
    left = int(BAR_WIDTH * (span["start_unix_nano"] - start) / total)
    width = max(1, round(BAR_WIDTH * span["duration_ns"] / total))
    bar = (" " * left + "█" * width)[:BAR_WIDTH].ljust(BAR_WIDTH)
    return f"{mark} {label} |{bar}| {duration(span['duration_ns'])}"


def _hop_line(hop: dict[str, Any]) -> str:
    queue = hop["queue_ns"]
    after = "" if queue is None else f" after {duration(queue)} in the queue"
    producer = hop["producer_service"] or f"span {hop['producer_span_id']}"
    consumer = f"{hop['consumer_service']} (trace {hop['consumer_trace_id']})"
    return f"kafka: {producer} → topic {hop['topic'] or '?'} → {consumer}{after}"


def search_results(body: dict[str, Any]) -> str:
    """Search results as a table, one trace a line."""
    header = f"{'START':<28} {'DURATION':>9} {'SPANS':>5} {'ERR':>4}  {'TRACE ID':<32}  ROOT"
    lines = [header]
    for t in body["traces"]:
        root = f"{t['root_service']}: {t['root_name']}"
        lines.append(
            f"{t['start']:<28} {t['duration']:>9} {t['span_count']:>5} {t['error_count']:>4}  "
            f"{t['trace_id']:<32}  {root}"
        )
    if not body["traces"]:
        lines.append("(no trace matches)")
    if body.get("has_more"):
        lines.append(f"... more: --offset {body['next_offset']}")
    return "\n".join(lines) + "\n"
