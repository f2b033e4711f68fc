"""docker-compose.yml, statically: it parses, names only real commands, and agrees with the code."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.checks import (
    COMPOSE,
    DEFAULT,
    check_clew_environment,
    check_shop_environment,
    clew_context,
    load_yaml_documents,
    url_port,
    uvicorn_context,
)

(COMPOSE_FILE,) = load_yaml_documents(COMPOSE)
SERVICES: dict[str, Any] = COMPOSE_FILE["services"]
CLEW = {name for name, s in SERVICES.items() if s.get("image") == "clew:dev"}
CLEW_COMMANDS = {name for name in CLEW if "entrypoint" not in SERVICES[name]}
SHOP = {name for name in CLEW if SERVICES[name].get("entrypoint") == ["uvicorn"]}
URL = re.compile(r"https?://[\w.-]+:\d+[^'\" ]*")


def _published(service: dict[str, Any]) -> set[int]:
    return {int(str(port).split(":")[-1]) for port in service.get("ports", [])}


def _healthcheck_urls(service: dict[str, Any]) -> list[str]:
    return URL.findall(" ".join(service.get("healthcheck", {}).get("test", [])))


def test_the_stack_has_every_part() -> None:
    clew = {"clew-collector", "clew-writer", "clew-ui", "traffic"}
    assert {"clickhouse", "kafka"} | clew <= set(SERVICES)
    assert {"card-provider", "inventory", "payments", "orders", "fulfilment", "gateway"} == SHOP
    assert SERVICES["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft


def test_every_clew_container_is_built_from_the_deploy_dockerfile() -> None:
    for name in CLEW:
        assert SERVICES[name]["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}


@pytest.mark.parametrize("name", sorted(CLEW_COMMANDS))
def test_clew_commands_exist_and_parse(name: str) -> None:
    clew_context(SERVICES[name]["command"])


@pytest.mark.parametrize("name", sorted(CLEW_COMMANDS))
def test_clew_environment_is_settings(name: str) -> None:
    check_clew_environment(SERVICES[name].get("environment", {}))


@pytest.mark.parametrize("name", sorted(SHOP))
def test_shop_services_run_real_apps_with_the_shops_variables(name: str) -> None:
    ctx = uvicorn_context(SERVICES[name]["command"])
    assert ctx.params["port"] == 8000
    check_shop_environment(SERVICES[name]["environment"])
    assert _healthcheck_urls(SERVICES[name]) == ["http://127.0.0.1:8000/healthz"]


def test_ports_agree_with_the_settings() -> None:
    collector = clew_context(SERVICES["clew-collector"]["command"]).params
    ui = clew_context(SERVICES["clew-ui"]["command"]).params
    assert collector["http_port"] == DEFAULT.otlp_http_port
    assert collector["grpc_port"] == DEFAULT.otlp_grpc_port
    assert ui["ui_port"] == DEFAULT.ui_port
    assert _published(SERVICES["clew-collector"]) == {4317, 4318}
    assert _published(SERVICES["clew-ui"]) == {DEFAULT.ui_port}
    assert _healthcheck_urls(SERVICES["clew-collector"]) == [
        f"http://127.0.0.1:{DEFAULT.otlp_http_port}/healthz"
    ]
    # /healthz, not the home page: that runs the overview's queries at every check.
    ui_health = f"http://127.0.0.1:{DEFAULT.ui_port}/healthz"
    assert _healthcheck_urls(SERVICES["clew-ui"]) == [ui_health]


@pytest.mark.parametrize("name", sorted(SHOP))
def test_shop_urls_point_at_services_that_listen_there(name: str) -> None:
    env = SERVICES[name]["environment"]
    for variable, value in env.items():
        if variable.endswith("_URL"):
            host, port = url_port(value)
            assert host in SHOP, (variable, value)
            assert uvicorn_context(SERVICES[host]["command"]).params["port"] == port
    host, port = url_port(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert (host, port) == ("clew-collector", DEFAULT.otlp_http_port)
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    listeners = SERVICES["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert "PLAINTEXT://kafka:9092" in listeners


def test_traffic_reaches_the_shop_it_names() -> None:
    params = clew_context(SERVICES["traffic"]["command"]).params
    for option in ("gateway", "orders_service", "inventory"):
        host, port = url_port(params[option])
        assert host in SHOP and port == 8000


@pytest.mark.parametrize("name", ["clew-writer", "clew-ui"])
def test_clickhouse_url_matches_the_server_credentials(name: str) -> None:
    url = SERVICES[name]["environment"]["CLEW_CLICKHOUSE_URL"]
    server = SERVICES["clickhouse"]["environment"]
    expected = f"http://{server['CLICKHOUSE_USER']}:{server['CLICKHOUSE_PASSWORD']}@clickhouse:8123/{server['CLICKHOUSE_DB']}"
    assert url == expected


def test_the_collector_publishes_to_kafka_and_the_writer_consumes_it() -> None:
    collector = clew_context(SERVICES["clew-collector"]["command"])
    writer = clew_context(SERVICES["clew-writer"]["command"])
    assert (collector.command.name, writer.command.name) == ("collect", "write")
    listeners = SERVICES["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    for ctx in (collector, writer):
        assert f"PLAINTEXT://{ctx.params['bootstrap']}" in listeners
    assert "CLEW_CLICKHOUSE_URL" not in SERVICES["clew-collector"]["environment"]
    for name in ("clew-collector", "clew-writer"):
        assert SERVICES[name]["depends_on"]["kafka"] == {"condition": "service_healthy"}


def test_every_dependency_and_volume_exists() -> None:
    for name, service in SERVICES.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in SERVICES, (name, dependency)
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], (name, dependency)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source in COMPOSE_FILE["volumes"], (name, volume)
