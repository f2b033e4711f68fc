"""Test fixture: a stand-in ClickHouse server (its HTTP interface over chDB) for the server backend.

This machine has no modern ClickHouse server, so tests of the server backend talk to
tests/support/chdb_http_server.py, started here as its own process (a chDB folder belongs to
one process, and the test process opens its own chDB stores). It is a test fixture, not a
ClickHouse server: see that module's docstring for the part of the protocol it speaks.

Fixtures: `clickhouse_http` (session scope) → `FakeClickHouse` with `.url`, `.url_for(db)`,
`.stop()`; `clickhouse_https`, the same over HTTPS (self-signed); `clickhouse_url` → the URL
of a fresh, empty database on `clickhouse_http`.
"""

from __future__ import annotations

import base64
import contextlib
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
USER = "clew"
# Characters that must be percent-encoded in a URL, so the backend's URL parsing is exercised.
PASSWORD = "p@ss:w/rd%"
START_TIMEOUT = 30.0
# The fixture's own calls trust its self-signed certificate; the backend under test does not.
_TRUSTING = ssl.create_default_context()
_TRUSTING.check_hostname, _TRUSTING.verify_mode = False, ssl.CERT_NONE


class FakeClickHouse:
    """One chdb_http_server process on a free loopback port."""

    def __init__(self, data_dir: Path, log_path: Path, *, certfile: Path | None = None) -> None:
        self.data_dir, self.log_path, self.certfile = data_dir, log_path, certfile
        self.scheme = "https" if certfile else "http"
        self.port = free_port()
        self.user, self.password = USER, PASSWORD
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """CLEW_CLICKHOUSE_URL for the `default` database."""
        return self.url_for("default")

    @property
    def base(self) -> str:
        """The HTTP address without credentials."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def url_for(self, database: str) -> str:
        """CLEW_CLICKHOUSE_URL for `database`, with the login percent-encoded."""
        login = (
            f"{urllib.parse.quote(self.user, safe='')}:{urllib.parse.quote(self.password, safe='')}"
        )
        return f"{self.scheme}://{login}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the process and wait until /ping answers."""
        command = [sys.executable, "-m", "tests.support.chdb_http_server", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir), "--user", self.user]
        command += ["--password", self.password]
        if self.certfile:
            command += ["--certfile", str(self.certfile)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"{self.base}/ping", timeout=1, context=_TRUSTING
                ) as response:
                    if response.read() == b"Ok.\n":
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"chdb_http_server did not start: {self.log_path.read_text(errors='replace')}"
        )

    def stop(self) -> None:
        """SIGTERM the process and wait for it (it closes chDB on the way out)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def post(self, sql: str, **params: str) -> bytes:
        """Run `sql` over HTTP as the fixture's user; raise HTTPError on a ClickHouse error."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        url = f"{self.base}/?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(
            url, data=sql.encode(), headers={"Authorization": f"Basic {token}"}
        )
        with urllib.request.urlopen(request, timeout=30, context=_TRUSTING) as response:
            return bytes(response.read())


@pytest.fixture(scope="session")
def clickhouse_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeClickHouse]:
    """The stand-in server, shared by the session; each test takes its own database."""
    root = tmp_path_factory.mktemp("clickhouse-http")
    server = FakeClickHouse(root / "data", root / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def clickhouse_https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeClickHouse]:
    """The stand-in server over HTTPS, with a self-signed certificate made by openssl."""
    root = tmp_path_factory.mktemp("clickhouse-https")
    pem = root / "server.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-keyout", str(pem), "-out", str(pem)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = FakeClickHouse(root / "data", root / "server.log", certfile=pem)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clickhouse_url(clickhouse_http: FakeClickHouse) -> Iterator[str]:
    """CLEW_CLICKHOUSE_URL of a new empty database, dropped after the test."""
    database = f"test_{uuid.uuid4().hex[:12]}"
    clickhouse_http.post(f"CREATE DATABASE {database}")
    yield clickhouse_http.url_for(database)
    # A test may have stopped the server; its folder goes with the session's tmp dir.
    with contextlib.suppress(urllib.error.URLError, OSError):
        clickhouse_http.post(f"DROP DATABASE IF EXISTS {database}")
