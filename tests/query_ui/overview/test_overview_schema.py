"""The overview's tables in the cluster schema: replicated locals, Distributed fronts."""

from __future__ import annotations

import re

from clew.collector.schema.apply import schema_files
from clew.collector.schema.cluster import cluster_statements

SHARDED = [
    "clew_service_minutes",
    "clew_operation_minutes",
    "clew_log_minutes",
    "clew_topic_minutes",
    "clew_call_halves",
    "clew_edge_minutes",
    "clew_failures",
]


def test_every_overview_table_is_on_the_cluster() -> None:
    ddl = "\n".join(cluster_statements(schema_files(), "c1", 7))
    for table in SHARDED:
        assert f"CREATE TABLE IF NOT EXISTS {table}_local ON CLUSTER c1" in ddl, table
        assert f"'{table}_local'" in ddl, table  # the Distributed table over it
    assert "ReplicatedAggregatingMergeTree" in ddl
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}" in ddl  # clew_failures
    assert "CREATE TABLE IF NOT EXISTS clew_overview_progress ON CLUSTER c1" in ddl
    assert "/clickhouse/tables/all/{database}/{table}" in ddl
    assert "'clew_failures_local', cityHash64(TraceId)" in ddl


def test_the_views_read_the_local_tables() -> None:
    ddl = cluster_statements(schema_files(), "c1", 7)
    names = [f"{table}_mv" for table in SHARDED]
    views = [s for s in ddl if "MATERIALIZED VIEW" in s and any(n in s for n in names)]
    assert len(views) == 5
    local = ("otel_traces_local", "otel_logs_local", "clew_operation_minutes_local")
    for view in views:  # each reads the local table its node's inserts go to
        read = set(re.findall(r"FROM (\w+)", view))
        assert read and read <= set(local), view
