"""deploy/Dockerfile, statically: multi-stage, non-root, the `clew` entry point, the right ports."""

from __future__ import annotations

import json
import re

from tests.deploy.checks import (
    DOCKERFILE,
    PORTS,
    ROOT,
    clew_context,
    console_scripts,
    workspace_members,
)

LINES = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
STAGES = [i for i, line in enumerate(LINES) if line.startswith("FROM ")]
FINAL = LINES[STAGES[-1] :]


def _instruction(name: str, lines: list[str] = FINAL) -> list[str]:
    return [line.split(None, 1)[1] for line in lines if line.startswith(f"{name} ")]


def test_it_builds_in_one_stage_and_runs_in_another() -> None:
    assert len(STAGES) >= 2
    assert any("--from=build" in copy for copy in _instruction("COPY"))
    assert not any("uv " in run for run in _instruction("RUN")), "no build tool in the runtime"


def test_the_runtime_user_is_not_root() -> None:
    (user,) = _instruction("USER")
    uid = user.split(":")[0]
    assert uid not in ("root", "0")
    assert re.search(rf"useradd .*--uid {uid}\b", DOCKERFILE.read_text())


def test_the_entry_point_is_the_clew_console_script() -> None:
    (entrypoint,) = _instruction("ENTRYPOINT")
    assert json.loads(entrypoint) == ["clew"]
    assert console_scripts()["clew"] == "clew.collector.cli:main"
    (cmd,) = _instruction("CMD")
    clew_context(json.loads(cmd))


def test_exposed_ports_are_the_settings_defaults() -> None:
    exposed = {int(port) for line in _instruction("EXPOSE") for port in line.split()}
    assert exposed == set(PORTS.values())


def test_every_workspace_member_is_copied_and_the_lock_is_used() -> None:
    copied = {c.split()[0].rstrip("/") for c in _instruction("COPY", LINES) if "--from" not in c}
    assert set(workspace_members()) <= copied
    assert "uv sync --frozen --all-packages --no-dev --no-editable" in DOCKERFILE.read_text()


def test_the_uv_version_is_the_one_the_readme_installs() -> None:
    (pinned,) = re.findall(r"uv==([\d.]+)", DOCKERFILE.read_text())
    assert f"uv=={pinned}" in (ROOT / "README.md").read_text()


def test_environment_names_are_settings() -> None:
    text = DOCKERFILE.read_text()
    for name in re.findall(r"\b(CLEW_\w+)=", text):
        field = name.removeprefix("CLEW_").lower()
        from clew.collector.settings import Settings

        assert field in Settings.model_fields, name
