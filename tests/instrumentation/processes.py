"""Services under real uvicorn / gunicorn processes on free loopback ports, stopped by the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class Service:
    """A running server process: its base URL and the stderr it wrote so far."""

    url: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for_stderr(self, text: str, timeout: float = 60) -> None:
        """Wait until the process wrote text to stderr."""
        deadline = time.monotonic() + timeout
        while text not in self.stderr:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never written; stderr: {self.stderr[-2000:]}")
            time.sleep(0.05)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, wait (the exporters flush on exit), then read stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"{self.url} did not stop within {timeout}s") from None
        self._reader.join(timeout)
        return self.process.returncode


def service_env(collector_url: str, service_name: str, **extra: str) -> dict[str, str]:
    """Environment of a traced service: only the variables set here, plus PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "CLEW_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "OTEL_SERVICE_NAME": service_name,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector_url,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
    }
    return env | extra


@contextmanager
def serve(argv: list[str], env: dict[str, str], health: str = "/health") -> Iterator[Service]:
    """Start argv (with {port} filled in), wait until health answers, stop it afterwards."""
    port = free_port()
    command = [part.format(port=port) for part in argv]
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    service = Service(f"http://127.0.0.1:{port}", process)
    try:
        _wait_healthy(service, health)
        yield service
    finally:
        service.stop()


def _wait_healthy(service: Service, health: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            service.stop()
            raise AssertionError(
                f"server exited with {service.process.returncode}: {service.stderr}"
            )
        try:
            if httpx.get(service.url + health, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{service.url}{health} never answered")


def uvicorn(app: str, *options: str) -> list[str]:
    """argv of uvicorn serving app on 127.0.0.1:{port}."""
    return [str(BIN / "uvicorn"), app, "--host", "127.0.0.1", "--port", "{port}", *options]


def gunicorn_preload(app: str, workers: int) -> list[str]:
    """argv of gunicorn --preload with uvicorn workers: the app is imported, then forked."""
    return [
        str(BIN / "gunicorn"),
        app,
        "--preload",
        "--workers",
        str(workers),
        "--worker-class",
        "uvicorn.workers.UvicornWorker",
        "--bind",
        "127.0.0.1:{port}",
    ]
