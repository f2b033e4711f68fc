"""Security fixtures: a CA and server certificate; `clew serve` with tokens and TLS."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from pydantic import SecretStr

from clew.collector.store import ChdbStore
from clew.query_ui.settings import Settings as UISettings
from tests.query_ui.conftest import open_test_store
from tests.query_ui.shop import Shop, write_shop
from tests.security.certs import Certs, certs
from tests.support.clew_server import ClewServer

__all__ = ["certs"]
INGEST_TOKEN = "ingest-T0k3n/with+symbols="  # gRPC metadata is ASCII
UI_TOKEN = "ui-token-0123456789"


class HardenedServer(ClewServer):
    """`clew serve` with both tokens and TLS on every port, checked with verification on."""

    certs: Certs

    @property
    def http_url(self) -> str:
        return f"https://127.0.0.1:{self.http_port}"

    @property
    def ui_url(self) -> str:
        return f"https://127.0.0.1:{self.ui_port}"

    def _ready(self) -> bool:
        context = ssl.create_default_context(cafile=str(self.certs.ca))
        try:
            with urllib.request.urlopen(
                f"{self.http_url}/healthz", timeout=1, context=context
            ) as response:
                if response.status != 200:
                    return False
        except (urllib.error.URLError, OSError):
            return False
        credentials = grpc.ssl_channel_credentials(self.certs.ca.read_bytes())
        with grpc.secure_channel(self.grpc_target, credentials) as channel:
            try:
                grpc.channel_ready_future(channel).result(timeout=1)
            except grpc.FutureTimeoutError:
                return False
        return True


@pytest.fixture(scope="module")
def hardened_server(
    certs: Certs, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HardenedServer]:
    """One hardened `clew serve` for a module's tests; stopped at the end."""
    env = {
        "CLEW_INGEST_TOKEN": INGEST_TOKEN,
        "CLEW_UI_TOKEN": UI_TOKEN,
        "CLEW_TLS_CERT_FILE": str(certs.cert),
        "CLEW_TLS_KEY_FILE": str(certs.key),
    }
    server = HardenedServer(tmp_path_factory.mktemp("hardened") / "data", env)
    server.certs = certs
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shop_store(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[UISettings, ChdbStore, Shop]]:
    """The query UI's shop in a real chDB store, with CLEW_UI_TOKEN set in the settings."""
    settings, store = open_test_store(tmp_path_factory.mktemp("secure-shop"))
    try:
        shop = write_shop(store)
        yield settings.model_copy(update={"ui_token": SecretStr(UI_TOKEN)}), store, shop
    finally:
        store.close()


@pytest.fixture(scope="module")
def shop(shop_store: tuple[UISettings, ChdbStore, Shop]) -> Shop:
    return shop_store[2]
