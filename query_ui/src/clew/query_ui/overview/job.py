"""The overview job: pairs call halves into map edges and groups failed orders by cause.

It runs in the UI's process over the store that process writes with (`clew serve`, and
`clew ui` over a ClickHouse server), every CLEW_OVERVIEW_INTERVAL_SECONDS, in a thread of its
own. Edges are inserted once per closed window, then the window's end is recorded as progress;
a failure row replaces the earlier row of the same (key, value). One process per store runs it
(CLEW_OVERVIEW_JOB=false on the others): two would count a window's edges twice.
docs/adr/0006-overview.md says when data is too late to be counted.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from clew.common.store import Store
from clew.query_ui.explain import explain
from clew.query_ui.explain.diagnosis import Diagnosis, RootCause
from clew.query_ui.overview import queries as q
from clew.query_ui.overview import signature as sig
from clew.query_ui.overview.settings import OverviewSettings
from clew.query_ui.overview.stories import key_story, trace_story
from clew.query_ui.read.story import Story

log = logging.getLogger(__name__)
EDGE_JOB = "edges"
S, MS_NS = 10**9, 10**6
MAX_WINDOW_S = 3600  # at most an hour of call halves is paired in one insert


@dataclass(frozen=True)
class Failure:
    """One grouped failure, a row of clew_failures."""

    key: str
    value: str
    last_ns: int
    cause: RootCause | None
    business: bool

    def row(self, diagnosed_ms: int) -> dict[str, Any]:
        """The row as JSONEachRow wants it (times as Unix seconds with nanosecond decimals)."""
        cause = self.cause
        masked = sig.mask(cause.message) if cause else ""
        parts = (cause.span.service, cause.span.name, cause.error_type) if cause else ("", "", "")
        return {
            "Key": self.key,
            "Value": self.value,
            "TraceId": cause.span.trace_id if cause else "",
            "Time": _seconds(cause.time_ns if cause else self.last_ns),
            "LastSeen": _seconds(self.last_ns),
            "Signature": sig.signature(*parts, masked) if cause else "",
            "ServiceName": parts[0],
            "Operation": parts[1],
            "ErrorType": parts[2],
            "Message": masked,
            "Business": int(self.business),
            "Version": cause.span.resource.get("service.version", "") if cause else "",
            "Diagnosed": f"{diagnosed_ms / 1000:.3f}",
        }


def _seconds(ns: int) -> str:
    return f"{ns // S}.{ns % S:09d}"


def failure(key: str, value: str, last_ns: int, story: Story, business: Collection[str]) -> Failure:
    """The failure of one story: its first root cause, or none when it did not fail."""
    diagnosis: Diagnosis = explain(story)
    if diagnosis.status == "succeeded" or not diagnosis.root_causes:
        return Failure(key, value, last_ns, None, False)
    cause = diagnosis.root_causes[0]
    found = sig.is_business(story, cause.span, cause.error_type, business)
    return Failure(key, value, last_ns, cause, found)


class OverviewJob:
    """One pass at a time over `store`; `start` runs passes in a thread until `stop`."""

    def __init__(self, store: Store, business_keys: Sequence[str], settings: OverviewSettings):
        self.store, self.keys, self.settings = store, list(business_keys), settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, now_ns: int | None = None) -> int:
        """Pair closed windows into edges and group quiet failures; how many were grouped."""
        now = time.time_ns() if now_ns is None else now_ns
        self.pair_edges(now)
        return self.group_failures(now)

    def pair_edges(self, now_ns: int) -> None:
        """Insert the edges of every whole minute older than the lateness, window by window."""
        closed_ms = (now_ns - int(self.settings.edge_lateness_seconds * S)) // MS_NS
        closed_ms -= closed_ms % 60_000
        row = self.store.query(q.PROGRESS, {"job": EDGE_JOB}).named()[0]
        start_ms = int(row["UptoMs"]) if int(row["Known"]) else closed_ms - 86_400_000
        while start_ms < closed_ms:
            end_ms = min(closed_ms, start_ms + MAX_WINDOW_S * 1000)
            params = {"from_ms": start_ms, "to_ms": end_ms, "margin_ms": 60_000}
            self.store.command(q.PAIR_EDGES, params)
            self.store.command(q.SET_PROGRESS, {"job": EDGE_JOB, "upto_ms": end_ms})
            start_ms = end_ms

    def group_failures(self, now_ns: int) -> int:
        """Diagnose failed keys and traces that went quiet and are not grouped yet."""
        since = now_ns - int(self.settings.horizon_seconds * S)
        quiet = now_ns - int(self.settings.quiet_seconds * S)
        params = {"since_ns": since, "quiet_ns": quiet, "limit": self.settings.batch}
        keyed = self.store.query(q.FAILED_KEYS, params | {"keys": self.keys}).named()
        lone = self.store.query(q.FAILED_TRACES, params | {"margin_ns": 3600 * S}).named()
        todo = [(str(r["Key"]), str(r["Value"]), int(r["LastNs"])) for r in keyed]
        todo += [("", str(r["TraceId"]), int(r["LastNs"])) for r in lone]
        found = [self._diagnose(*item) for item in self._not_grouped(todo)]
        if found:
            now_ms = time.time_ns() // MS_NS
            rows = "\n".join(_json(f.row(now_ms)) for f in found)
            self.store.insert("clew_failures", rows)
        return len(found)

    def _not_grouped(self, todo: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
        if not todo:
            return []
        params = {"keys": sorted({k for k, _, _ in todo}), "values": [v for _, v, _ in todo]}
        done = {
            (str(r["Key"]), str(r["Value"])): int(r["LastNs"])
            for r in self.store.query(q.GROUPED, params).named()
        }
        return [(k, v, last) for k, v, last in todo if done.get((k, v), -1) < last]

    def _diagnose(self, key: str, value: str, last_ns: int) -> Failure:
        story = key_story(self.store, key, value) if key else trace_story(self.store, value)
        return failure(key, value, last_ns, story, self.settings.business_errors)

    def start(self) -> None:
        """Run passes every interval in a daemon thread."""
        self._thread = threading.Thread(target=self._loop, name="clew-overview", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end and wait for its pass to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.interval_seconds):
            try:
                self.run_once()
            except Exception:  # a store outage must not end the job: the next pass retries
                log.exception("overview job pass failed; retrying in the next pass")


def _json(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False)


def overview_job(settings: Any, store: Any) -> OverviewJob | None:
    """The job over the store the process writes with, unless CLEW_OVERVIEW_JOB=false."""
    config = OverviewSettings()
    if not config.job:
        return None
    keys = list(getattr(settings, "business_keys", None) or ["order.id"])
    return OverviewJob(store, keys, config)
