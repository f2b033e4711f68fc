"""deploy/OPERATIONS.md names only commands that exist, with options they accept."""

from __future__ import annotations

import re
import shlex

from click.testing import CliRunner

from clew.collector.cli import main as clew_cli
from tests.deploy.checks import ROOT, clew_context

GUIDE = (ROOT / "deploy" / "OPERATIONS.md").read_text()
COMMANDS = [shlex.split(m) for m in re.findall(r"`(clew [a-z][^`]*)`", GUIDE)]
FUTURE = {"collect", "write"}
"""Commands the guide describes as not there yet (issue 6): when they land, update the guide."""


def test_every_command_the_guide_names_exists() -> None:
    named = {argv[1] for argv in COMMANDS}
    assert {"serve", "ui", "schema"} <= named
    for _, *argv in (c for c in COMMANDS if c[1] not in FUTURE):
        clew_context(argv)


def test_the_future_commands_are_still_future() -> None:
    assert FUTURE.isdisjoint(clew_cli.commands), "update OPERATIONS.md and FUTURE"


def test_clew_schema_prints_the_cluster_ddl_the_guide_describes() -> None:
    done = CliRunner().invoke(clew_cli, ["schema", "--cluster", "prod"])
    assert done.exit_code == 0, done.output
    assert "ON CLUSTER prod" in done.output
    assert "ReplicatedMergeTree" in done.output
    assert "Distributed('prod'" in done.output and "otel_traces_local" in done.output
