"""deploy/kubernetes, statically: it parses, the workloads run real commands with real settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from clew.query_ui.overview.settings import OverviewSettings
from tests.deploy.checks import (
    DEFAULT,
    DOCKERFILE,
    KUBERNETES,
    check_clew_environment,
    clew_context,
    load_yaml_documents,
)

FILES = sorted(KUBERNETES.glob("*.yaml"))
KUSTOMIZATION = KUBERNETES / "kustomization.yaml"
DOCS = [doc for path in FILES if path != KUSTOMIZATION for doc in load_yaml_documents(path)]
BY_KIND: dict[str, dict[str, Any]] = {}
for _doc in DOCS:
    BY_KIND.setdefault(_doc["kind"], {})[_doc["metadata"]["name"]] = _doc
DEPLOYMENTS = BY_KIND["Deployment"]
# Which setting gives the port a container opens, per clew command.
RECEIVER_PORTS = ("otlp_grpc_port", "otlp_http_port")
PORT_FIELDS: dict[str, tuple[str, ...]] = {
    "serve": RECEIVER_PORTS,
    "collect": RECEIVER_PORTS,
    "write": (),
    "ui": ("ui_port",),
}
OPTION_OF = {"otlp_grpc_port": "grpc_port", "otlp_http_port": "http_port", "ui_port": "ui_port"}


def _containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    return containers


def _args(name: str) -> list[str]:
    (container,) = _containers(DEPLOYMENTS[name])
    args: list[str] = container["args"]
    return args


def _environment(container: dict[str, Any]) -> dict[str, str]:
    """The variables a container gets from its ConfigMaps and Secrets and its own env."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(BY_KIND["ConfigMap"][source["configMapRef"]["name"]]["data"])
        if "secretRef" in source:
            env.update(BY_KIND["Secret"][source["secretRef"]["name"]]["stringData"])
    env.update({item["name"]: item["value"] for item in container.get("env", [])})
    return env


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_file_parses_into_named_objects(path: Path) -> None:
    for doc in load_yaml_documents(path):
        assert doc["apiVersion"] and doc["kind"], path
        assert doc["kind"] == "Kustomization" or doc["metadata"]["name"], path


def test_the_kustomization_lists_every_file() -> None:
    (kustomization,) = load_yaml_documents(KUSTOMIZATION)
    assert set(kustomization["resources"]) == {p.name for p in FILES if p != KUSTOMIZATION}


def test_receivers_have_deployment_service_and_autoscaler() -> None:
    assert {"clew-receivers", "clew-ui"} <= set(DEPLOYMENTS)
    assert {"clew-receivers", "clew-ui"} <= set(BY_KIND["Service"])
    hpa = BY_KIND["HorizontalPodAutoscaler"]["clew-receivers"]
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "clew-receivers")
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_containers_run_real_clew_commands_with_real_settings(name: str) -> None:
    for container in _containers(DEPLOYMENTS[name]):
        assert container["image"] == "clew"
        ctx = clew_context(container["args"])
        check_clew_environment(_environment(container))
        opened = {port["containerPort"] for port in container.get("ports", [])}
        assert ctx.command.name is not None
        fields = PORT_FIELDS[ctx.command.name]
        expected = {ctx.params[OPTION_OF[f]] or getattr(DEFAULT, f) for f in fields}
        assert opened == expected


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_probes_use_open_ports_and_real_paths(name: str) -> None:
    for container in _containers(DEPLOYMENTS[name]):
        ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
        for probe in ("readinessProbe", "livenessProbe"):
            if probe in container:
                check = container[probe]["httpGet"]
                assert check["port"] in ports
                if ports[check["port"]] == DEFAULT.otlp_http_port:
                    assert check["path"] == "/healthz"


@pytest.mark.parametrize("name", sorted(BY_KIND["Service"]))
def test_services_select_pods_and_ports_that_exist(name: str) -> None:
    service = BY_KIND["Service"][name]
    selector = service["spec"]["selector"]
    labels = [(d, d["spec"]["template"]["metadata"]["labels"]) for d in DEPLOYMENTS.values()]
    matched = [d for d, pod in labels if selector.items() <= pod.items()]
    assert len(matched) == 1, name
    names = {port["name"] for c in _containers(matched[0]) for port in c.get("ports", [])}
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= names


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_pods_run_as_the_images_unprivileged_user(name: str) -> None:
    spec = DEPLOYMENTS[name]["spec"]
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    security = spec["template"]["spec"]["securityContext"]
    (uid,) = re.findall(r"useradd .*--uid (\d+)", DOCKERFILE.read_text())
    assert security["runAsNonRoot"] is True and security["runAsUser"] == int(uid)


def test_receivers_publish_to_the_kafka_the_writers_consume() -> None:
    receivers = clew_context(_args("clew-receivers"))
    writers = clew_context(_args("clew-writers"))
    assert (receivers.command.name, writers.command.name) == ("collect", "write")
    assert receivers.params["bootstrap"] == writers.params["bootstrap"]
    # Writers scale with the topics' partitions, not CPU: no autoscaler targets them.
    targets = {
        h["spec"]["scaleTargetRef"]["name"] for h in BY_KIND["HorizontalPodAutoscaler"].values()
    }
    assert "clew-writers" not in targets


def test_only_the_writers_and_ui_hold_the_clickhouse_url() -> None:
    (receiver,) = _containers(DEPLOYMENTS["clew-receivers"])
    assert "CLEW_CLICKHOUSE_URL" not in _environment(receiver)
    for name in ("clew-writers", "clew-ui"):
        (container,) = _containers(DEPLOYMENTS[name])
        assert "CLEW_CLICKHOUSE_URL" in _environment(container), name


def test_one_pod_runs_the_overview_job() -> None:
    """Two overview jobs over one store would count a window's map edges twice."""
    running = []
    for name, deployment in DEPLOYMENTS.items():
        for container in _containers(deployment):
            if clew_context(container["args"]).command.name != "ui":
                continue
            env = _environment(container)
            if OverviewSettings(**_overview_fields(env)).job:
                running.append((name, deployment["spec"].get("replicas", 1), deployment["spec"]))
    assert [(name, replicas) for name, replicas, _ in running] == [("clew-overview", 1)]
    assert running[0][2]["strategy"]["type"] == "Recreate"  # never old and new side by side
    assert DEPLOYMENTS["clew-ui"]["spec"]["replicas"] > 1  # the pages scale; the job does not


def _overview_fields(env: dict[str, str]) -> dict[str, str]:
    prefix = "CLEW_OVERVIEW_"
    return {k.removeprefix(prefix).lower(): v for k, v in env.items() if k.startswith(prefix)}


def test_ui_probes_do_not_run_the_overview_queries() -> None:
    for name, deployment in DEPLOYMENTS.items():
        for container in _containers(deployment):
            if clew_context(container["args"]).command.name == "ui":
                for probe in ("readinessProbe", "livenessProbe"):
                    if probe in container:
                        assert container[probe]["httpGet"]["path"] == "/healthz", name
