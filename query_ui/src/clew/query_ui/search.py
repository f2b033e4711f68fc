"""Trace search: filters parsed from a query string, run as one whole-trace query."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from clew.common.store import Store
from clew.query_ui.errors import InvalidParameterError
from clew.query_ui.read import queries as q
from clew.query_ui.read.format import duration
from clew.query_ui.read.load import run
from clew.query_ui.read.shapes import stamp

SORTS = ("start", "duration", "spans", "errors")
STATUSES = ("any", "error", "ok")
MAX_TAGS = 32
_UNITS = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
}
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h|d)?\s*$")


def parse_duration(text: str, *, default_unit: str = "ms", what: str = "duration") -> int:
    """`250ms`, `1.5s`, `2h`, `30` (in `default_unit`) as nanoseconds."""
    match = _AMOUNT.match(text)
    if not match:
        raise InvalidParameterError(what, f"{text!r} is not a duration such as 250ms, 1.5s or 2h")
    return int(float(match.group(1)) * _UNITS[match.group(2) or default_unit])


def parse_time(text: str, what: str) -> int:
    """An absolute time (RFC 3339 or `YYYY-MM-DDTHH:MM`, UTC when no offset) as Unix ns."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        example = "2026-11-21T10:00Z"
        raise InvalidParameterError(what, f"{text!r} is not a time such as {example}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def parse_tag(text: str, what: str = "tag") -> tuple[str, str]:
    """`key=value` as a pair."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InvalidParameterError(what, f"{text!r} is not of the form key=value")
    return key.strip(), value.strip()


@dataclass
class SearchFilters:
    """What a search asks for; every field is a user value bound as a parameter."""

    start_ns: int
    end_ns: int
    service: str = ""
    operation: str = ""
    tags: list[tuple[str, str]] = field(default_factory=list)
    status: str = "any"
    min_duration_ns: int = 0
    max_duration_ns: int = 0
    key: str = "order.id"
    key_value: str = ""
    sort: str = "start"
    descending: bool = True
    limit: int = 20
    offset: int = 0

    def parameters(self) -> dict[str, Any]:
        """The typed parameters of SEARCH_TRACES."""
        keys = [k for k, _ in self.tags]
        return {
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "service": self.service,
            "operation": self.operation,
            "tag_keys": keys,
            "tag_values": [v for _, v in self.tags],
            "tag_mask": (1 << len(keys)) - 1,
            "status": self.status,
            "min_duration_ns": self.min_duration_ns,
            "max_duration_ns": self.max_duration_ns,
            "key": self.key,
            "key_value": self.key_value,
            "sort": self.sort,
            "descending": self.descending,
            "limit": self.limit + 1,
            "offset": self.offset,
            "margin_ns": q.LOG_MARGIN_NS,
        }


def build_filters(args: dict[str, Any], business_keys: list[str]) -> SearchFilters:
    """Filters from query-string arguments (`tag` may repeat); bad input is a 422."""

    def text(name: str, default: str = "") -> str:
        return str(args.get(name) or default).strip()

    start, end = parse_range(args)
    filters = SearchFilters(start_ns=start, end_ns=end, service=text("service"))
    filters.operation = text("operation")
    filters.tags = [parse_tag(t) for t in args.get("tag", []) if str(t).strip()]
    filters.status = choice(text("status", "any"), STATUSES, "status")
    if text("min_duration"):
        filters.min_duration_ns = parse_duration(text("min_duration"), what="min_duration")
    if text("max_duration"):
        filters.max_duration_ns = parse_duration(text("max_duration"), what="max_duration")
    filters.key = choice(text("key", business_keys[0]), tuple(business_keys), "key")
    filters.key_value = text("key_value")
    filters.sort = choice(text("sort", "start"), SORTS, "sort")
    filters.descending = choice(text("order", "desc"), ("desc", "asc"), "order") == "desc"
    filters.limit = bounded(text("limit", "20"), 1, q.MAX_PAGE, "limit")
    filters.offset = bounded(text("offset", "0"), 0, 1_000_000, "offset")
    if len(filters.tags) > MAX_TAGS:
        raise InvalidParameterError("tag", f"at most {MAX_TAGS} attribute filters are supported")
    return filters


def parse_range(args: dict[str, Any]) -> tuple[int, int]:
    """The time range of `start`/`end`/`lookback` as Unix ns; `end` defaults to now."""
    start_text, end_text = (str(args.get(n) or "").strip() for n in ("start", "end"))
    end = parse_time(end_text, "end") if end_text else time.time_ns()
    if start_text:
        start = parse_time(start_text, "start")
    else:
        lookback = str(args.get("lookback") or "1h").strip()
        start = end - parse_duration(lookback, default_unit="h", what="lookback")
    if start > end:
        raise InvalidParameterError("start", "the start of the time range is after its end")
    return start, end


def choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    """`value` when it is one of `allowed`, else a 422 naming parameter `what`."""
    if value not in allowed:
        raise InvalidParameterError(what, f"must be one of {', '.join(allowed)}, not {value!r}")
    return value


def bounded(value: str, low: int, high: int, what: str) -> int:
    """A whole number from `low` to `high`, else a 422 naming parameter `what`."""
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise InvalidParameterError(what, f"must be a whole number from {low} to {high}")
    return int(value)


@dataclass
class SearchPage:
    """One page of search results."""

    traces: list[dict[str, Any]]
    has_more: bool
    filters: SearchFilters
    limits: list[str] = field(default_factory=list)


def search(store: Store, filters: SearchFilters) -> SearchPage:
    """Run the search; each result is a JSON-ready trace summary."""
    limits: list[str] = []
    rows = run(store, _query(filters), filters.parameters(), limits)
    page = rows[: filters.limit]
    params: dict[str, Any] = {"trace_ids": [r["trace_id"] for r in page]}
    params |= {"start_ns": filters.start_ns, "end_ns": filters.end_ns}
    params["margin_ns"] = q.LOG_MARGIN_NS
    found = run(store, q.TRACE_SUMMARIES, params, limits) if page else []
    summaries = {r["trace_id"]: r for r in found}
    # Failed spans are counted with the summary, for the page only (the first step counts them
    # only when a filter or the sort needs them).
    results = [_summary(r | summaries.get(r["trace_id"], _NO_SUMMARY)) for r in page]
    more = len(rows) > filters.limit
    return SearchPage(traces=results, has_more=more, filters=filters, limits=limits)


def _query(filters: SearchFilters) -> str:
    """The search query: with tags or not, counting failed spans when status or sort needs it."""
    if filters.status != "any" or filters.sort == "errors":
        return (
            q.SEARCH_TRACES_BY_ATTRIBUTES_COUNTING_FAILURES
            if filters.tags
            else q.SEARCH_TRACES_COUNTING_FAILURES
        )
    return q.SEARCH_TRACES_BY_ATTRIBUTES if filters.tags else q.SEARCH_TRACES


_NO_SUMMARY: dict[str, Any] = {"root_service": "", "root_name": "", "services": []}


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "trace_id": str(row["trace_id"]),
        **stamp("start", int(row["start_ns"])),
        "duration_ns": int(row["duration_ns"]),
        "duration": duration(int(row["duration_ns"])),
        "root_service": str(row["root_service"]),
        "root_name": str(row["root_name"]),
        "span_count": int(row["span_count"]),
        "services": [str(s) for s in row["services"]],
        "error_count": int(row["error_count"]),
    }
