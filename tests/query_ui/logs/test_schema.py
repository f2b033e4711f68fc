"""Schema files 017 (text index on lower(Body)) and 018 (per-minute log volume): on one
server, on a cluster, and on a store whose records were written before them."""

from __future__ import annotations

import time
from pathlib import Path

from clew.collector.schema.apply import apply_schema, schema_files, statements
from clew.collector.schema.cluster import cluster_statements
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from clew.query_ui.logs import filters as lf
from clew.query_ui.logs import histogram, search

BODIES = ["Deadlock detected on accounts", "card declined", "deadlock again", "all fine"]
INSERT = """
INSERT INTO otel_logs (Timestamp, ServiceName, SeverityText, SeverityNumber, Body)
SELECT fromUnixTimestamp64Nano({now:Int64} - toInt64(number) * 1000000000), 'svc',
       if(number % 4 = 0, 'ERROR', 'INFO'), if(number % 4 = 0, 17, 9),
       {bodies:Array(String)}[number % 4 + 1]
FROM numbers({count:UInt64})
"""
USES_INDEX = """EXPLAIN indexes = 1
SELECT count() FROM otel_logs WHERE hasAllTokens(lower(Body), ['deadlock'])"""


def _deadlocks(store: ChdbStore, now: int) -> int:
    built = lf.build({"text": "deadlock", "lookback": "1h", "limit": "100"}, ["order.id"])
    built.end_ns = now
    return len(search.page(store, built).records)


def test_records_written_before_the_index_are_found_before_and_after_materializing(
    tmp_path: Path,
) -> None:
    store = ChdbStore(tmp_path)
    settings = Settings(data_dir=tmp_path)
    try:
        for name, text in schema_files():  # the schema as it was before 017 and 018
            if name < "017":
                for statement in statements(text, 7):
                    store.command(statement)
        now = time.time_ns()
        store.command(INSERT, {"now": now, "bodies": BODIES, "count": 400})
        apply_schema(store, settings)  # the upgrade: adds the index and the volume table
        assert _deadlocks(store, now) == 100  # old parts: no index yet, the same answer
        store.command(
            "ALTER TABLE otel_logs MATERIALIZE INDEX idx_body_text SETTINGS mutations_sync = 1"
        )
        assert _deadlocks(store, now) == 100
        plan = "\n".join(row[0] for row in store.query(USES_INDEX).rows)
        assert "text_index" in plan or "idx_body_text" in plan
        # The volume table counts what arrives after 018; older minutes need the backfill.
        store.command(INSERT, {"now": now + 10**12, "bodies": BODIES, "count": 400})
        counted = store.query("SELECT sum(Count) FROM clew_logs_volume").rows[0][0]
        assert int(counted) == 400
    finally:
        store.close()


def test_the_histogram_reads_the_volume_for_whole_minutes_only(tmp_path: Path) -> None:
    store = ChdbStore(tmp_path)
    try:
        apply_schema(store, Settings(data_dir=tmp_path))
        now = (time.time_ns() // 60_000_000_000) * 60_000_000_000 - 30 * 10**9  # mid-minute
        store.command(INSERT, {"now": now, "bodies": BODIES, "count": 400})
        after = {"now": now + 20 * 10**9, "bodies": ["after the end"], "count": 20}
        store.command(INSERT, after)  # in the end's minute, after the end: not counted
        built = lf.build({"lookback": "3h"}, ["order.id"])
        built.start_ns, built.end_ns = now - 7210 * 10**9, now  # both ends inside a minute
        volume = histogram.histogram(store, built)
        assert volume["step_ns"] % 60_000_000_000 == 0
        totals = {"ERROR": 0, "INFO": 0}
        for bucket in volume["buckets"]:
            for level, n in bucket["counts"].items():
                totals[level] += n
        assert totals == {"ERROR": 100, "INFO": 300}  # exactly the range's records
    finally:
        store.close()


def test_on_a_cluster_the_index_goes_to_the_local_table() -> None:
    sent = cluster_statements(schema_files(), "logs_cluster", 7)
    index = [s for s in sent if "idx_body_text" in s]
    assert len(index) == 1
    assert index[0].startswith("ALTER TABLE otel_logs_local ON CLUSTER logs_cluster ADD INDEX")
    volume = [s for s in sent if "clew_logs_volume" in s]
    assert any("ReplicatedSummingMergeTree" in s for s in volume)
    assert any("Distributed('logs_cluster'" in s and "clew_logs_volume_local" in s for s in volume)
    assert any("TO clew_logs_volume_local" in s and "FROM otel_logs_local" in s for s in volume)
