"""Every query the UI runs gives the same rows on the embedded store and on a ClickHouse server.

Both stores get the schema and the same spans and logs; each named query of
clew.query_ui.queries then runs on both, with values for every parameter it declares.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import Store, open_store
from clew.query_ui.read import queries

T0 = (time.time_ns() // 10**9 - 120) * 10**9
TRACE, OTHER = "5b8efff798038103d269b633813fc60c", "22222222222222222222222222222222"
PLACEHOLDER = re.compile(r"\{(\w+):([^{}]+)\}")
# A value for every parameter name the queries use; a new name fails the test until added here.
VALUES: dict[str, Any] = {
    "trace_id": TRACE,
    "trace_ids": [TRACE, OTHER],
    "span_ids": ["eee19b7ec3c1b174", "1111111111111111"],
    "start_ns": T0 - 10**12,
    "end_ns": T0 + 10**12,
    "limit": 100,
    "offset": 0,
    "key": "order.id",
    "keys": ["order.id", "customer.id"],
    "value": "A-1",
    "key_value": "A-1",
    "service": "",
    "operation": "",
    "status": "",
    "min_duration_ns": 0,
    "max_duration_ns": 0,
    "sort": "duration",
    "descending": True,
    "tag_keys": ["order.id"],
    "tag_values": ["A-1"],
    "tag_mask": 1,
    "margin_ns": 60 * 10**9,
    "start_s": T0 // 10**9 - 1000,
    "end_s": T0 // 10**9 + 1000,
    "at_ns": T0,
    "since_ns": T0 - 10**12,
    "until_ns": T0 + 10**12,
    "wait_start_ns": T0,
    "exclude_trace_ids": [],
    "table": "op",
    "table_lower": "op",
    "services": ["shop", "pay"],
    "pattern": r"(?i)\bop\b",
}


def rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two traces linked by a span link, with business keys, an error and logs."""
    spans = [
        {
            "TimestampNs": T0 + n * 1_000_000, "EndNs": T0 + n * 1_000_000 + 700_000,
            "TraceId": TRACE, "SpanId": f"eee19b7ec3c1b17{n}",
            "ParentSpanId": "" if n == 0 else "eee19b7ec3c1b170", "SpanName": f"op {n}",
            "SpanKind": "Server", "ServiceName": ["shop", "pay", "mail"][n],
            "SpanAttributes": {"order.id": "A-1"} if n < 2 else {"http.status_code": "503"},
            "StatusCode": "Error" if n == 1 else "Unset",
        }
        for n in range(3)
    ] + [
        {
            "TimestampNs": T0 + 5_000_000, "EndNs": T0 + 9_000_000, "TraceId": OTHER,
            "SpanId": "1111111111111111", "SpanName": "consume", "SpanKind": "Consumer",
            "ServiceName": "ship", "SpanAttributes": {"customer.id": "A-1"},
            "LinksTraceId": [TRACE], "LinksSpanId": ["eee19b7ec3c1b174"], "LinksTraceState": [""],
            "LinksAttributes": [{"messaging.system": "kafka"}],
        }
    ]  # fmt: skip
    logs = [
        {
            "TimestampNs": T0 + 1_500_000, "TraceId": TRACE, "SpanId": "eee19b7ec3c1b171",
            "SeverityText": "ERROR", "SeverityNumber": 17, "ServiceName": "pay",
            "Body": "card declined", "LogAttributes": {"order.id": "A-1"},
        }
    ]  # fmt: skip
    return spans, logs


EMPTY_WITH_SAMPLE = ["NEAREST_SUCCEEDED", "TRACES_LINKING_TO"]


def named_queries() -> dict[str, str]:
    """Every public SELECT of the queries module."""
    return {
        name: value
        for name, value in vars(queries).items()
        if name.isupper()
        and not name.startswith("_")
        and isinstance(value, str)
        and "SELECT" in value
    }


@pytest.fixture
def both(tmp_path: Path, clickhouse_url: str) -> Iterator[tuple[Store, Store]]:
    stores = []
    for url in (None, clickhouse_url):
        settings = Settings(
            data_dir=tmp_path / "data",
            clickhouse_url=url,
            business_keys=["order.id", "customer.id"],
        )
        store = open_store(settings)
        apply_schema(store, settings)
        spans, logs = rows()
        store.insert("clew_ingest_spans", json.dumps(spans))
        store.insert("clew_ingest_logs", json.dumps(logs))
        stores.append(store)
    yield stores[0], stores[1]
    for store in stores:
        store.close()


def test_every_ui_query_gives_the_same_rows_on_both_backends(both: tuple[Store, Store]) -> None:
    embedded, server = both
    found = named_queries()
    assert len(found) >= 8, sorted(found)
    empty: list[str] = []
    for name, sql in sorted(found.items()):
        names = {param for param, _ in PLACEHOLDER.findall(sql)}
        missing = names - set(VALUES)
        assert not missing, f"{name}: give the test a value for {sorted(missing)}"
        parameters = {param: VALUES[param] for param in names}
        here = embedded.query(sql, parameters, settings=queries.QUERY_SETTINGS)
        there = server.query(sql, parameters, settings=queries.QUERY_SETTINGS)
        assert there.column_names == here.column_names, name
        if "ORDER BY" in sql:
            assert there.rows == here.rows, name
        else:  # no order asked for: none to compare
            assert sorted(there.rows, key=repr) == sorted(here.rows, key=repr), name
        if not here.rows:
            empty.append(name)
    # The sample data holds no second order (nearest succeeded) and no trace linking to
    # TRACE from outside (TRACES_LINKING_TO excludes the traces asked for): those answer nothing.
    assert sorted(empty) == sorted(EMPTY_WITH_SAMPLE), "the sample data should give rows"
