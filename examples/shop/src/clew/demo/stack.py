"""The processes `clew demo` starts: each in its own process group, all stopped together."""

from __future__ import annotations

import contextlib
import ctypes
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_SECONDS = 15.0
"""How long a process gets to exit after SIGTERM before its whole group is killed."""


class StartError(RuntimeError):
    """A process did not come up; the message ends with the tail of its log."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Child:
    """One started process and the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def failed(self, reason: str) -> StartError:
        return StartError(f"{self.name} {reason}; its log {self.log} ends with:\n{self.tail()}")


@dataclass
class Stack:
    """Starts processes in new sessions; stop() ends them, newest first, groups included."""

    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], stdout: int | None = None
    ) -> Child:
        """Start `argv` with its output in log_dir/NAME.log (stdout piped if asked)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                list(argv),
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=out if stdout is None else stdout,
                stderr=out,
                # A session of its own: the terminal's Ctrl-C reaches only `clew demo`, which
                # then stops each group in order (the collector last, so nothing is lost).
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def stop(self) -> None:
        """SIGTERM each process, newest first; SIGKILL whatever is left of its group."""
        while self.children:
            stop(self.children.pop())


def _die_with_parent() -> None:
    """In the child: get SIGTERM if `clew demo` itself dies without stopping its children."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def stop(child: Child) -> None:
    """End one child and every process of its group."""
    process = child.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_SECONDS)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # the group id is the leader's pid
    process.wait()


def wait_http(child: Child, url: str, timeout: float = 60.0) -> None:
    """Wait until `url` answers 200; fail early if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise child.failed(f"exited with status {child.process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise child.failed(f"did not answer {url} within {timeout:.0f} s")


def wait_line(child: Child, stream: IO[bytes], prefix: bytes, timeout: float) -> str:
    """The first line of `stream` starting with `prefix`, as text."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0 and selector.select(left):
            line = stream.readline()
            if line.startswith(prefix):
                return line.decode().strip()
            if not line:
                break
    raise child.failed(f"printed no {prefix.decode()!r} line within {timeout:.0f} s")
