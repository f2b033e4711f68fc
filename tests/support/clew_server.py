"""`clew serve` as a real process on free loopback ports with a temp data dir.

Fixtures: `clew_server` (started; stopped at teardown) and `clew_server_factory` (build one with
extra `CLEW_*` environment, start/stop/restart it yourself). After stop(), `query()` opens the
data folder with chDB in this process, the way a user would inspect it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import pytest

from clew.collector.store import ChdbStore
from tests.support.ports import free_port

START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0


class ClewServer:
    """One `clew serve` process; start() again after stop() to restart on the same data."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = dict(env or {})
        self.http_port, self.grpc_port, self.ui_port = free_port(), free_port(), free_port()
        self.log_path = data_dir.parent / f"{data_dir.name}-serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None
        self.cwd: Path | None = None  # the process's working directory (None: this one's)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    def command(self) -> list[str]:
        script = Path(sys.executable).with_name("clew")
        entry = [str(script)] if script.exists() else [sys.executable, "-m", "clew.collector"]
        return [
            *entry,
            "serve",
            "--host",
            "127.0.0.1",
            "--data-dir",
            str(self.data_dir),
            "--http-port",
            str(self.http_port),
            "--grpc-port",
            str(self.grpc_port),
            "--ui-port",
            str(self.ui_port),
        ]

    def start(self) -> None:
        """Launch the process and wait until both receivers answer."""
        env = {**os.environ, "CLEW_BATCH_MAX_AGE": "0.2", **self.env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), env=env, stdout=log, stderr=log, cwd=self.cwd
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"clew serve exited {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"clew serve did not become ready:\n{self.log()}")
            time.sleep(0.1)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.http_url}/healthz", timeout=1) as response:
                if response.status != 200:
                    return False
        except (urllib.error.URLError, OSError):
            return False
        with grpc.insecure_channel(self.grpc_target) as channel:
            try:
                grpc.channel_ready_future(channel).result(timeout=1)
            except grpc.FutureTimeoutError:
                return False
        return True

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the process (SIGTERM by default), wait for it to drain and exit; its code."""
        if self.process is None:
            return self.returncode if self.returncode is not None else 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.returncode, self.process = self.process.returncode, None
        return self.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of `sql` over the stopped server's data folder, opened with chDB here."""
        if self.running:
            raise RuntimeError("stop the server first: a chDB folder belongs to one process")
        store = ChdbStore(self.data_dir)
        try:
            return store.query(sql, parameters).named()
        finally:
            store.close()


@pytest.fixture
def clew_server_factory(tmp_path: Path) -> Iterator[Callable[..., ClewServer]]:
    """Make servers with extra environment; each is stopped at teardown."""
    made: list[ClewServer] = []

    def make(env: Mapping[str, str] | None = None, name: str = "clew-data") -> ClewServer:
        server = ClewServer(tmp_path / f"{name}-{len(made)}", env)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


@pytest.fixture
def clew_server(clew_server_factory: Callable[..., ClewServer]) -> ClewServer:
    """A started `clew serve` on free ports with a temp data dir."""
    server = clew_server_factory()
    server.start()
    return server
