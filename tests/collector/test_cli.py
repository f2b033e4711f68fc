"""The `clew` command group: serve's options, and subcommands other parts add by entry point."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from clew.collector import cli


def test_serve_help_lists_its_options() -> None:
    result = CliRunner().invoke(cli.main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--http-port", "--grpc-port", "--ui-port", "--data-dir"):
        assert option in result.output


def test_installed_plugin_commands_are_in_the_group() -> None:
    names = {point.name for point in entry_points(group="clew.cli")}
    assert names <= set(cli.main.commands)
    assert "serve" in cli.main.commands


def test_a_broken_plugin_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    good = EntryPoint("hello", "clew.collector.cli:serve", "clew.cli")
    broken = EntryPoint("broken", "no_such_module_anywhere:command", "clew.cli")
    monkeypatch.setattr(cli, "entry_points", lambda group: [broken, good])
    group = click.Group("clew", commands={"serve": cli.serve})
    cli._add_plugin_commands(group)
    assert set(group.commands) == {"serve", "hello"}


def test_a_bad_setting_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEW_OTLP_GRPC_PORT", "not-a-port")
    result = CliRunner().invoke(cli.main, ["serve"])
    assert result.exit_code == 1
    assert "invalid setting: CLEW_OTLP_GRPC_PORT:" in result.output
    assert "Traceback" not in result.output


def test_a_refused_start_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLEW_TLS_CERT_FILE", str(tmp_path / "missing.pem"))
    result = CliRunner().invoke(cli.main, ["serve", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 1
    assert "Error: " in result.output and "CLEW_TLS" in result.output
