"""The API's JSON as text for a terminal: diagnosis, trace waterfall, search results."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from clew.query_ui.read.format import duration

BAR_WIDTH = 40
LABEL_WIDTH = 48


def diagnosis(d: dict[str, Any]) -> str:
    """A diagnosis for a person: verdict, summary, causes with evidence, cascade, handled."""
    lines = [f"{d['key']} {d['value']}: {str(d['status']).upper()}", "", str(d["summary"]), ""]
    for number, cause in enumerate(d.get("root_causes", []), start=1):
        lines += _cause(f"{number}. ", cause)
    if d.get("cascade"):
        lines.append("Cascade:")
        for c in d["cascade"]:
            lines.append(f"  {_span(c)}: {c['reason']}")
            lines += [f"    {_log(log)}" for log in c.get("logs", [])]
        lines.append("")
    if d.get("handled"):
        lines.append("Handled (made good by a retry or by the caller; not a cause):")
        for h in d["handled"]:
            lines.append(f"  {_span(h)}: {h['error_type']}: {h['message']}".rstrip(": "))
        lines.append("")
    if d.get("recoveries"):
        lines.append("Recovered:")
        lines += [f"  {_span(r)}: {r['reason']}" for r in d["recoveries"]]
        lines.append("")
    lines.append("Traces: " + ", ".join(d.get("traces", [])))
    return "\n".join(lines).rstrip() + "\n"


def _span(entry: dict[str, Any]) -> str:
    """service 'what it did' (raw name), as every surface names a span."""
    name, raw = entry.get("name") or entry["span_name"], entry["span_name"]
    return f"{entry['service']} '{name}'" + (f" (span '{raw}')" if raw != name else "")


def _cause(lead: str, cause: dict[str, Any]) -> list[str]:
    lines = [f"{lead}{_span(cause)} at {cause['time']}"]
    lines.append(f"   {cause['error_type']}: {cause['message']}".rstrip(": "))
    lines.append(f"   trace {cause['trace_id']} span {cause['span_id']}")
    lines += [f"   - {_evidence(item)}" for item in cause.get("evidence", [])]
    return [*lines, ""]


def _log(item: dict[str, Any]) -> str:
    attrs = item.get("attributes") or {}
    message = attrs.get("exception.message", "")
    what = f" [{attrs.get('exception.type', '')}: {message}]" if message else ""
    return f"log {item.get('severity', '')} {item.get('service', '')}: {item.get('body', '')}{what}"


def _exception(item: dict[str, Any]) -> str:
    head = f"exception {item.get('type', '')}: {item.get('message', '')}"
    frames = item.get("frames") or []
    shown = [f for f in frames if not f.get("library")] or frames[:1]
    lines = [head]
    for f in shown:
        code = f": {f['code']}" if f.get("code") else ""
        where = f", in {f['function']}" if f.get("function") else ""
        lines.append(f"       at {f['file']} line {f['line']}{where}{code}")
    folded = len(frames) - len(shown)
    if folded > 0:
        lines.append(f"       ({folded} library frame(s) folded; --json has the whole trace)")
    if not frames and item.get("stacktrace"):
        lines.append("       " + str(item["stacktrace"]).strip().replace("\n", "\n       "))
    return "\n".join(lines)


def _messaging(item: dict[str, Any]) -> str:
    parts = [f"{item.get('system') or 'messaging'} topic {item.get('destination', '')}"]
    parts += [f"{name} {item[name]}" for name in ("partition", "offset", "group", "key")
              if item.get(name)]  # fmt: skip
    return " ".join(parts)


def _evidence(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    kind = item.get("kind", "")
    if kind == "reason":
        return f"why: {item.get('text', '')}"
    if kind == "log":
        return _log(item)
    if kind == "exception":
        return _exception(item)
    if kind == "db.statement":
        return f"{item.get('system') or 'db'} statement: {item.get('statement', '')}"
    if kind == "messaging":
        return _messaging(item)
    if kind == "http":
        return f"HTTP {item.get('status_code')} {item.get('method', '')} {item.get('target', '')}"
    if kind == "status":
        return f"status {item.get('code', '')}: {item.get('message', '')}".rstrip(": ")
    if kind == "duration":
        return f"took {duration(int(float(item.get('duration_ms', 0)) * 1e6))}"
    if kind in ("peer", "compensation", "repeated"):
        return str(item.get("text", ""))
    if kind == "contention":
        return _contention(item)
    rest = ", ".join(f"{k}={v}" for k, v in sorted(item.items()) if k != "kind")
    return f"{kind}: {rest}" if kind else rest


def _contention(item: dict[str, Any]) -> str:
    lines = [str(item.get("text", ""))]
    for s in item.get("suspects", []):
        lines.append(f"       {s['service']} '{s['name']}' from {s['start']} for "
                     f"{s['duration_ms']:.0f} ms (trace {s['trace_id']} span {s['span_id']}):"
                     f" {s['statement']}")  # fmt: skip
    return "\n".join(lines)


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
    name = span.get("display_name") or span["name"]
    label = "  " * span.get("depth", 0) + f"{span['service']}: {name}"
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
