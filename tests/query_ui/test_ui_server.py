"""`clew ui` as a real process over the server backend (CLEW_CLICKHOUSE_URL, stand-in server)."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import open_store
from tests.query_ui.shop import FAILED_ORDER, Shop, write_shop
from tests.security.certs import make_certs
from tests.support.ports import free_port

CLEW = Path(sys.executable).with_name("clew")


def _env(url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEW_")}
    return env | {"CLEW_CLICKHOUSE_URL": url, "CLEW_UI_PORT": str(port)}


def _wait_until_up(process: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            httpx.get(f"{base}/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("clew ui did not answer within 60 s")


@pytest.fixture
def shop_on_server(clickhouse_url: str, tmp_path: Path) -> Shop:
    """The shop written into a fresh database of the stand-in ClickHouse server."""
    settings = Settings(data_dir=tmp_path / "unused", clickhouse_url=clickhouse_url)
    store = open_store(settings)
    try:
        apply_schema(store, settings)
        return write_shop(store)
    finally:
        store.close()


@pytest.fixture
def clew_ui(clickhouse_url: str, shop_on_server: Shop, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [str(CLEW), "ui"],
        env=_env(clickhouse_url, port),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_up(process, f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not (tmp_path / "clew-data").exists()  # no embedded store was opened
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_clew_ui_serves_pages_and_api_from_the_server(clew_ui: str, shop_on_server: Shop) -> None:
    diagnosis = httpx.get(f"{clew_ui}/api/orders/{FAILED_ORDER}/diagnosis", timeout=60).json()
    assert diagnosis["status"] == "failed"
    assert diagnosis["root_causes"][0]["span_id"] == shop_on_server.db_span.span_id
    page = httpx.get(f"{clew_ui}/traces/{shop_on_server.failed_trace}", timeout=60)
    assert page.status_code == 200 and "psycopg.errors.DeadlockDetected" in page.text
    found = httpx.get(
        f"{clew_ui}/api/traces", params={"service": "checkout", "status": "error"}, timeout=60
    ).json()
    assert [t["trace_id"] for t in found["traces"]] == [shop_on_server.failed_trace]
    jump = httpx.get(
        f"{clew_ui}/go", params={"q": shop_on_server.old_trace}, timeout=60, follow_redirects=True
    )
    assert jump.url.path == f"/traces/{shop_on_server.old_trace}"
    missing = httpx.get(f"{clew_ui}/traces/{'f' * 32}", timeout=60)
    assert missing.status_code == 404 and "Traceback" not in missing.text


def _run_ui(url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`clew ui` that is expected to stop at start-up."""
    command = [str(CLEW), "ui"]
    env = _env(url, free_port())
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_clew_ui_on_a_database_without_clew_tables_says_so(
    clickhouse_url: str, tmp_path: Path
) -> None:
    done = _run_ui(clickhouse_url, tmp_path)
    assert done.returncode == 1
    assert "has no otel_traces" in done.stderr and "Traceback" not in done.stderr


def test_clew_ui_with_an_unreachable_server_says_so(tmp_path: Path) -> None:
    done = _run_ui(f"http://default:@127.0.0.1:{free_port()}/default", tmp_path)
    assert done.returncode == 1
    assert "cannot open the ClickHouse server" in done.stderr and "Traceback" not in done.stderr


def test_clew_ui_serves_tls_over_its_own_connection_and_asks_for_its_token(
    clickhouse_url: str, shop_on_server: Shop, tmp_path: Path
) -> None:
    certs = make_certs(tmp_path)
    port = free_port()
    # The UI's own (read-only) connection is all `clew ui` needs.
    env = {k: v for k, v in _env("", port).items() if k != "CLEW_CLICKHOUSE_URL"} | {
        "CLEW_UI_CLICKHOUSE_URL": clickhouse_url,
        "CLEW_UI_TOKEN": "ui-t0ken",
        "CLEW_TLS_CERT_FILE": str(certs.cert),
        "CLEW_TLS_KEY_FILE": str(certs.key),
    }
    process = subprocess.Popen(
        [str(CLEW), "ui"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    base, trusted = f"https://127.0.0.1:{port}", ssl.create_default_context(cafile=str(certs.ca))
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None and time.monotonic() < deadline
            try:
                assert httpx.get(f"{base}/healthz", verify=trusted, timeout=2).status_code == 200
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert httpx.get(f"{base}/api/traces", verify=trusted).status_code == 401
        bearer = {"Authorization": "Bearer ui-t0ken"}
        found = httpx.get(
            f"{base}/api/orders/{FAILED_ORDER}/diagnosis",
            headers=bearer,
            verify=trusted,
            timeout=60,
        )
        assert found.status_code == 200 and found.json()["status"] == "failed"
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        process.terminate()
        process.wait(timeout=30)
