"""`clew why|trace|search|ui` against the UI on a real uvicorn server over the real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from clew.collector.store import ChdbStore
from clew.query_ui.cli import search, trace, ui, why
from clew.query_ui.read import load
from clew.query_ui.settings import Settings as UISettings
from tests.query_ui.explain import scenarios
from tests.query_ui.explain.test_store import write
from tests.query_ui.shop import FAILED_ORDER, GOOD_ORDER, Shop
from tests.support.ports import free_port


def test_why_prints_the_diagnosis(ui_url: str) -> None:
    result = CliRunner().invoke(why, [FAILED_ORDER, "--url", ui_url])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"order.id {FAILED_ORDER}: FAILED")
    assert "psycopg.errors.DeadlockDetected: deadlock detected" in result.output
    assert "Cascade:" in result.output and "frontend 'POST /checkout'" in result.output
    good = CliRunner().invoke(why, [GOOD_ORDER, "--url", ui_url])
    assert "SUCCEEDED" in good.output


def test_why_json_is_the_api_document(ui_url: str, shop: Shop) -> None:
    result = CliRunner().invoke(why, [FAILED_ORDER, "--url", ui_url, "--json"])
    body = json.loads(result.output)
    assert body["status"] == "failed" and shop.failed_trace in body["traces"]
    assert body["root_causes"][0]["span_id"] == shop.db_span.span_id


def test_why_unknown_order_fails_with_the_message(ui_url: str) -> None:
    result = CliRunner().invoke(why, ["no-such-order", "--url", ui_url])
    assert result.exit_code == 1
    assert "nothing was found" in result.output


def test_trace_prints_a_waterfall_with_logs(ui_url: str, shop: Shop) -> None:
    result = CliRunner().invoke(trace, [shop.failed_trace, "--url", ui_url])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    db_line = next(line for line in lines if "payments: postgresql UPDATE accounts" in line)
    assert db_line.startswith("✖*") and "█" in db_line and db_line.endswith("300 ms")
    assert any("ERROR deadlock detected on accounts" in line for line in lines)
    assert any(line.startswith("kafka: checkout → topic orders → inventory") for line in lines)
    missing = CliRunner().invoke(trace, ["ffffffffffffffffffffffffffffffff", "--url", ui_url])
    assert missing.exit_code == 1 and "no trace with id" in missing.output


def test_search_lists_traces(ui_url: str, shop: Shop) -> None:
    args = ["--url", ui_url, "--service", "checkout", "--status", "error"]
    result = CliRunner().invoke(search, args)
    assert result.exit_code == 0, result.output
    assert shop.failed_trace in result.output and shop.good_trace not in result.output
    tagged = CliRunner().invoke(
        search, ["--url", ui_url, "--tag", "db.system=postgresql", "--json"]
    )
    assert [t["trace_id"] for t in json.loads(tagged.output)["traces"]] == [shop.failed_trace]
    bad = CliRunner().invoke(search, ["--url", ui_url, "--min-duration", "soon"])
    assert bad.exit_code == 1 and "not a duration" in bad.output


def test_limits_the_server_hit_are_said(
    ui_url: str, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server runs in this process.
    monkeypatch.setattr(load, "DEFAULT_LIMITS", load.Limits(max_spans=2))
    result = CliRunner().invoke(trace, [shop.failed_trace, "--url", ui_url])
    assert result.exit_code == 0
    assert "clew: only the first 2 spans were read (row limit reached)" in result.stderr


def test_unreachable_clew_is_a_clear_error() -> None:
    result = CliRunner().invoke(why, ["x", "--url", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 1 and "could not reach clew" in result.output


def test_clew_ui_says_it_needs_a_clickhouse_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEW_")}
    clew = Path(sys.executable).with_name("clew")
    done = subprocess.run(
        [str(clew), "ui"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "needs a ClickHouse server" in done.stderr and "CLEW_CLICKHOUSE_URL" in done.stderr
    assert CliRunner().invoke(ui, [], env={"CLEW_CLICKHOUSE_URL": ""}).exit_code == 2


def test_why_lists_what_recovered(
    ui_url: str, shop_store: tuple[UISettings, ChdbStore, Shop]
) -> None:
    write(shop_store[1], scenarios.retry_then_success("cli-retry"))
    result = CliRunner().invoke(why, ["cli-retry", "--url", ui_url])
    assert result.exit_code == 0, result.output
    recovered = result.output.split("Recovered:\n", 1)[1]
    assert recovered.startswith("  checkout 'POST': retry of checkout")


def test_why_says_the_limits_the_diagnosis_hit(
    ui_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server runs in this process.
    monkeypatch.setattr(load, "DEFAULT_LIMITS", load.Limits(max_spans=2))
    result = CliRunner().invoke(why, [FAILED_ORDER, "--url", ui_url])
    assert result.exit_code == 0
    assert "clew: only the first 2 spans were read (row limit reached)" in result.stderr
    assert result.stdout.startswith(f"order.id {FAILED_ORDER}: UNKNOWN")


def test_trace_json_is_the_trace_and_its_logs(ui_url: str, shop: Shop) -> None:
    result = CliRunner().invoke(trace, [shop.failed_trace, "--url", ui_url, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["trace_id"] == shop.failed_trace and len(body["spans"]) == 6
    assert shop.db_span.span_id in body["critical_path"]
    assert [log["severity"] for log in body["logs"]] == ["WARN", "ERROR", "ERROR"]
