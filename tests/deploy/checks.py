"""What the deploy files may name: clew's commands and settings, the shop's apps and variables."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import yaml

from clew.collector.cli import main as clew_cli
from clew.collector.kafka.messages import KafkaSettings
from clew.collector.settings import Settings
from clew.demo.shop import common
from clew.query_ui.overview.settings import OverviewSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
KUBERNETES = ROOT / "deploy" / "kubernetes"
DEFAULT = Settings()
KAFKA_PREFIX = KafkaSettings.model_config.get("env_prefix", "CLEW_KAFKA_")
OVERVIEW_PREFIX = OverviewSettings.model_config.get("env_prefix", "CLEW_OVERVIEW_")
# The ports the Dockerfile exposes and the manifests open: the settings' defaults.
PORTS = {
    "otlp_grpc_port": DEFAULT.otlp_grpc_port,
    "otlp_http_port": DEFAULT.otlp_http_port,
    "ui_port": DEFAULT.ui_port,
}
SHOP_VARIABLES = {
    common.GATEWAY_URL,
    common.ORDERS_URL,
    common.PAYMENTS_URL,
    common.INVENTORY_URL,
    common.PROVIDER_URL,
    common.DATA_DIR,
    common.KAFKA_BOOTSTRAP,
}


def load_yaml_documents(path: Path) -> list[Any]:
    """Every document of a YAML file (safe loader: anchors and merge keys, no tags)."""
    with path.open() as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def clew_context(argv: list[str]) -> click.Context:
    """Parse `clew ARGV` exactly as the installed `clew` would; raises on anything unknown."""
    assert argv, "an empty clew command"
    name, *args = argv
    command = clew_cli.commands.get(name)
    assert command is not None, f"`clew {name}` does not exist (have {sorted(clew_cli.commands)})"
    return command.make_context(f"clew {name}", list(args))


def uvicorn_context(argv: list[str]) -> click.Context:
    """Parse `uvicorn ARGV` with uvicorn's own command; the app must exist (checked without
    importing it, since a shop module instruments the process on import)."""
    command = importlib.import_module("uvicorn.main").main
    ctx: click.Context = command.make_context("uvicorn", list(argv))
    module, _, attribute = str(ctx.params["app"]).partition(":")
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"no module {module}"
    tree = ast.parse(Path(spec.origin).read_text())
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}  # fmt: skip
    assert attribute in assigned, f"{module} has no top-level {attribute}"
    return ctx


def check_clew_environment(env: dict[str, str]) -> None:
    """CLEW_* names are settings (CLEW_KAFKA_* the Kafka seam's) and their values validate."""
    fields: dict[str, Any] = {}
    kafka: dict[str, Any] = {}
    overview: dict[str, Any] = {}
    for name, value in env.items():
        assert name.startswith("CLEW_"), f"{name} is not a clew setting"
        if name.startswith(OVERVIEW_PREFIX):
            field = name.removeprefix(OVERVIEW_PREFIX).lower()
            assert field in OverviewSettings.model_fields, f"{name}: no overview setting {field}"
            overview[field] = value
            continue
        if name.startswith(KAFKA_PREFIX):
            field = name.removeprefix(KAFKA_PREFIX).lower()
            assert field in KafkaSettings.model_fields, f"{name}: KafkaSettings has no {field}"
            kafka[field] = value
            continue
        field = name.removeprefix("CLEW_").lower()
        assert field in Settings.model_fields, f"{name}: Settings has no field {field}"
        fields[field] = value
    Settings.model_validate(fields)
    KafkaSettings.model_validate(kafka)
    OverviewSettings.model_validate(overview)
    if "clickhouse_url" in fields:
        from clew.collector.store.server import parse_url

        parse_url(fields["clickhouse_url"])


def check_shop_environment(env: dict[str, str]) -> None:
    """A shop service reads only the shop's variables and the standard OTEL_* ones."""
    for name in env:
        assert name in SHOP_VARIABLES or name.startswith("OTEL_"), f"the shop never reads {name}"


def url_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port, f"{url} names no host and port"
    return parts.hostname, parts.port


def console_scripts() -> dict[str, str]:
    """The collector distribution's [project.scripts] (it owns the one `clew`)."""
    project = tomllib.loads((ROOT / "collector" / "pyproject.toml").read_text())["project"]
    scripts: dict[str, str] = project["scripts"]
    return scripts


def workspace_members() -> list[str]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members: list[str] = root["tool"]["uv"]["workspace"]["members"]
    return members
