"""Live tail: new log lines as server-sent events, polled from the store.

Lines reach the store in batches and from hosts whose clocks differ, so each poll rereads the
last LAG_NS before the newest line sent and sends only what it has not sent. A stream lasts
`seconds` and then ends; the browser's EventSource reconnects by itself with the last event's
id (the newest time sent) as Last-Event-ID, and the stream goes on from there.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from clew.common.store import Store
from clew.query_ui.logs import queries as lq
from clew.query_ui.logs.filters import LogFilters
from clew.query_ui.logs.search import Keyed, keyed, record, stored_traces
from clew.query_ui.read.load import run
from clew.query_ui.read.shapes import log_out

POLL_SECONDS = 1.0
LAG_NS = 10 * 10**9
MAX_BATCH = 500
RETRY_MS = 1000


@dataclass
class Follower:
    """What one stream has sent: nothing at or before `floor`, nothing twice."""

    store: Store
    filters: LogFilters
    floor: int
    newest: int = 0
    sent: set[tuple[int, str, int]] = field(default_factory=set)

    def poll(self) -> tuple[list[Keyed], set[str], list[str]]:
        """The lines not sent yet, oldest first, which of their traces are stored, limits."""
        limits: list[str] = []
        lower = max(self.floor, max(self.newest, self.floor) - LAG_NS)
        params = self.filters.parameters() | {"after_ns": lower, "limit": MAX_BATCH}
        params["end_ns"] = 2**62  # a tail has no end
        rows = run(self.store, lq.statement(lq.AFTER_NEWEST, self.filters), params, limits)
        if len(rows) >= MAX_BATCH:
            limits.append(f"more than {MAX_BATCH} new lines at once: only the newest are shown")
        fresh = [k for k in reversed(keyed([record(r) for r in rows]))
                 if (k[0].time_ns, k[1], k[2]) not in self.sent]  # fmt: skip
        for rec, ident, copy in fresh:
            self.sent.add((rec.time_ns, ident, copy))
            self.newest = max(self.newest, rec.time_ns)
        self.sent = {k for k in self.sent if k[0] >= self.newest - LAG_NS}
        stored = stored_traces(self.store, [k[0] for k in fresh], limits)
        return fresh, stored, limits


def event(follower: Follower, fresh: list[Keyed], stored: set[str], limits: list[str]) -> str:
    """One server-sent event with the new lines; its id is the newest time sent."""
    body = {
        "logs": [log_out(k[0]) for k in fresh],
        "stored_traces": sorted(stored),
        "limits": limits,
    }
    newest = max(follower.newest, follower.floor)
    return f"id: {newest}\nevent: logs\ndata: {json.dumps(body)}\n\n"


async def stream(
    follower: Follower, seconds: float, disconnected: Callable[[], object]
) -> AsyncIterator[str]:
    """Poll and send until `seconds` have passed or the client has gone."""
    yield f"retry: {RETRY_MS}\nid: {follower.floor}\nevent: ready\ndata: {{}}\n\n"
    deadline = time.monotonic() + seconds
    while True:
        fresh, stored, limits = await run_in_threadpool(follower.poll)
        if fresh or limits:
            yield event(follower, fresh, stored, limits)
        else:
            yield ": idle\n\n"  # a comment: lets a proxy and the server notice a gone client
        if time.monotonic() >= deadline or await disconnected():  # type: ignore[misc]
            return
        await asyncio.sleep(POLL_SECONDS)
