"""`clew logs` against a real `clew serve`: filters, --json lines, colours on a terminal,
escaped control characters, and -f printing a line sent after it started."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from clew.query_ui.cli_logs import logs
from tests.query_ui.logs.corpus import Record, logs_body, post
from tests.support.clew_server import ClewServer


def run(server: ClewServer, *args: str, color: bool = False) -> str:
    result = CliRunner().invoke(logs, ["--url", server.ui_url, "--since", "2d", *args],
                                color=color)  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def test_filters_and_json_lines(served: tuple[ClewServer, Any]) -> None:
    server, _ = served
    lines = run(server, "--grep", "deadlock", "--severity", "error", "--json").splitlines()
    assert [json.loads(line)["body"] for line in lines] == [
        "Deadlock detected on accounts while charging"
    ]
    oldest_first = run(server, "--service", "cleanup-worker").splitlines()
    assert "removed 3 expired carts" in oldest_first[0] and "failed" in oldest_first[1]
    # ord-2's record, and the other record of its trace (the business-key index has the trace)
    assert run(server, "--order", "ord-2", "--json").count("\n") == 2
    assert run(server, "--attr", "region=eu", "--json").count("\n") == 1


def test_colours_on_a_terminal_and_escaped_control_characters(
    served: tuple[ClewServer, Any],
) -> None:
    server, _ = served
    now = time.time_ns()
    post(server.http_url, "/v1/logs",
         logs_body([Record("tty", "ERROR", 17, "\x1b[2Jcleared?\x07", now)]))  # fmt: skip
    deadline = time.monotonic() + 60
    while "cleared" not in (out := run(server, "--service", "tty", color=True)):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert "\x1b[31m" in out  # ERROR in red
    assert "\\x1b[2Jcleared?\\x07" in out and "\x1b[2J" not in out
    assert "\x1b[" not in run(server, "--service", "tty")  # not a terminal: no colours


def test_a_bad_filter_is_the_servers_422(served: tuple[ClewServer, Any]) -> None:
    server, _ = served
    result = CliRunner().invoke(logs, ["--url", server.ui_url, "--severity", "loud"])
    assert result.exit_code == 1 and "parameter 'severity'" in result.output


def test_follow_prints_a_line_sent_after_it_started(
    served: tuple[ClewServer, Any], tmp_path: Path
) -> None:
    server, _ = served
    script = Path(sys.executable).with_name("clew")
    out = (tmp_path / "out.txt").open("w+")
    command = [str(script), "logs", "--url", server.ui_url, "--service", "followed", "-f"]
    process = subprocess.Popen([*command, "--json"], stdout=out, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)  # not a wait for speed: lines older than the start are not shown anyway
        deadline = time.monotonic() + 90
        sent = 0
        while time.monotonic() < deadline:
            line = Record("followed", "INFO", 9, f"follow {sent}", time.time_ns())
            post(server.http_url, "/v1/logs", logs_body([line]))
            sent += 1
            time.sleep(1)
            out.seek(0)
            text = out.read()
            if '"follow ' in text:
                break
        else:
            raise AssertionError(f"-f printed nothing: {text!r}")
        bodies = [json.loads(line)["body"] for line in text.splitlines() if line.startswith("{")]
        assert bodies and all(b.startswith("follow ") for b in bodies)
        assert len(bodies) == len(set(bodies))
    finally:
        process.terminate()
        process.wait(30)
        out.close()
