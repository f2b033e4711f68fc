"""Repository-level promises: CI runs the README's test command, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic_settings import BaseSettings

from clew.collector.kafka.messages import KafkaSettings
from clew.collector.settings import Settings
from clew.query_ui.settings import Settings as UISettings

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", readme, flags=re.S)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = _readme_commands()
    test_commands = [c for c in commands if "pytest" in c]
    assert len(test_commands) == 1, commands
    ci_lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci_lines == [test_commands[0]]


def test_readme_install_commands_use_the_frozen_lock() -> None:
    for command in _readme_commands():
        assert "uv sync --frozen --all-packages" in command


def _variables(settings: type[BaseSettings]) -> set[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


def test_readme_documents_every_setting() -> None:
    """A setting missing from the README's table is one no user will find."""
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`(CLEW_[A-Z0-9_]+)`", readme))
    missing = (
        _variables(Settings) | _variables(KafkaSettings) | _variables(UISettings)
    ) - documented
    assert not missing, f"settings not in the README: {sorted(missing)}"
