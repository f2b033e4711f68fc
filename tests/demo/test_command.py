"""The command `clew demo` prints for a failed order works in the shell that started it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from clew.demo.cli import clew_command


def test_under_uv_run_it_is_uv_run_clew(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV", "/usr/bin/uv")
    assert clew_command() == "uv run clew"


def test_on_the_path_it_is_clew(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("UV", raising=False)
    script = tmp_path / "clew"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(script), "demo"])
    monkeypatch.setenv("PATH", str(tmp_path))
    assert clew_command() == "clew"


def test_otherwise_it_is_the_full_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("UV", raising=False)
    script = tmp_path / "my env" / "clew"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "argv", [str(script), "demo"])
    monkeypatch.setenv("PATH", "/nonexistent")
    assert clew_command() == f"'{script}'"
