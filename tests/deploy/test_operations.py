"""deploy/OPERATIONS.md names commands and settings that exist."""

from __future__ import annotations

import re

from clew.collector.kafka.messages import KafkaSettings
from clew.collector.settings import Settings
from tests.deploy.checks import KAFKA_PREFIX, ROOT, clew_context

GUIDE = (ROOT / "deploy" / "OPERATIONS.md").read_text()


def test_the_cluster_schema_command_exists() -> None:
    assert "`clew schema --cluster NAME`" in GUIDE
    assert clew_context(["schema", "--cluster", "NAME"]).params["cluster"] == "NAME"


def test_every_setting_named_is_a_setting() -> None:
    named = set(re.findall(r"`(CLEW_[A-Z_]+)`", GUIDE))
    assert named, "the guide names the settings it talks about"
    for name in named:
        if name.startswith(KAFKA_PREFIX):
            assert name.removeprefix(KAFKA_PREFIX).lower() in KafkaSettings.model_fields, name
        else:
            assert name.removeprefix("CLEW_").lower() in Settings.model_fields, name


def test_the_kafka_commands_are_the_ones_the_manifests_run() -> None:
    for command in ("collect", "write"):
        assert f"`clew {command} --kafka BOOTSTRAP`" in GUIDE
        assert clew_context([command, "--kafka", "BOOTSTRAP"]).params["bootstrap"] == "BOOTSTRAP"
    assert "future" not in GUIDE and "Until those commands exist" not in GUIDE
