"""https to ClickHouse with verification on: the stand-in server over TLS with the test CA's
certificate; clew trusts it only through CLEW_CLICKHOUSE_CA_FILE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clew.collector.errors import StoreError
from clew.collector.settings import Settings
from clew.collector.store import open_store
from tests.security.certs import Certs
from tests.support.clickhouse_http import FakeClickHouse


@pytest.fixture(scope="module")
def clickhouse_tls(
    certs: Certs, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FakeClickHouse]:
    root = tmp_path_factory.mktemp("clickhouse-tls")
    pem = root / "server-with-key.pem"
    pem.write_bytes(certs.cert.read_bytes() + certs.key.read_bytes())
    server = FakeClickHouse(root / "data", root / "server.log", certfile=pem)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _settings(url: str, ca: Path | None, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "unused", clickhouse_url=url, clickhouse_ca_file=ca)


def test_https_with_the_ca_file_verifies_and_works(
    clickhouse_tls: FakeClickHouse, certs: Certs, tmp_path: Path
) -> None:
    assert clickhouse_tls.url.startswith("https://")
    store = open_store(_settings(clickhouse_tls.url, certs.ca, tmp_path))
    try:
        assert store.query("SELECT 1 + 1 AS two").rows == [(2,)]
    finally:
        store.close()


@pytest.mark.parametrize("trusted", ["system", "other"])
def test_https_refuses_a_server_it_cannot_verify(
    clickhouse_tls: FakeClickHouse, certs: Certs, tmp_path: Path, trusted: str
) -> None:
    ca = None if trusted == "system" else certs.other_ca
    with pytest.raises(StoreError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        open_store(_settings(clickhouse_tls.url, ca, tmp_path)).query("SELECT 1")


def test_a_missing_ca_file_is_a_clear_error(clickhouse_tls: FakeClickHouse, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"CLEW_CLICKHOUSE_CA_FILE .* is not a file"):
        open_store(_settings(clickhouse_tls.url, tmp_path / "nope.pem", tmp_path))
