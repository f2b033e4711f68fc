"""Starting the stack's parts: `clew serve`, the Kafka broker and the shop's services."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from clew.collector.settings import Settings
from clew.demo.shop import common
from clew.demo.stack import Stack, StartError, free_port, wait_http, wait_line

BROKER_SCRIPT_ENV = "CLEW_KAFKA_BROKER_SCRIPT"
BROKER_START_SECONDS = 300.0  # the first run may download the broker's jars
# (name, ASGI app): the order matters, each one's dependencies start before it.
SERVICES = (
    ("card-provider", "clew.demo.shop.provider:app"),
    ("inventory", "clew.demo.shop.inventory:app"),
    ("payments", "clew.demo.shop.payments:app"),
    ("orders", "clew.demo.shop.orders:app"),
    ("fulfilment", "clew.demo.shop.fulfilment:app"),
    ("gateway", "clew.demo.shop.gateway:app"),
)
URL_VARIABLES = {
    "card-provider": common.PROVIDER_URL,
    "inventory": common.INVENTORY_URL,
    "payments": common.PAYMENTS_URL,
    "orders": common.ORDERS_URL,
    "gateway": common.GATEWAY_URL,
}


def clew_command() -> list[str]:
    """This installation's `clew` (next to the running Python, else on PATH)."""
    beside = Path(sys.executable).with_name("clew")
    found = str(beside) if beside.exists() else shutil.which("clew")
    if found is None:
        return [sys.executable, "-c", "from clew.collector.cli import main; main()"]
    return [found]


def start_clew(stack: Stack, settings: Settings) -> None:
    """`clew serve` with the demo's options; waits for its OTLP receiver."""
    options = {
        "--data-dir": str(settings.data_dir),
        "--host": settings.host,
        "--http-port": str(settings.otlp_http_port),
        "--grpc-port": str(settings.otlp_grpc_port),
        "--ui-port": str(settings.ui_port),
    }
    argv = [*clew_command(), "serve", *(part for pair in options.items() for part in pair)]
    child = stack.start("clew-serve", argv, {})
    wait_http(child, f"http://{client_host(settings.host)}:{settings.otlp_http_port}/healthz", 120)


def broker_script() -> Path:
    """scripts/kafka-broker of the source tree this package runs from."""
    if os.environ.get(BROKER_SCRIPT_ENV):
        return Path(os.environ[BROKER_SCRIPT_ENV])
    for folder in Path(__file__).resolve().parents:
        if (folder / "scripts" / "kafka-broker").is_file():
            return folder / "scripts" / "kafka-broker"
    raise StartError(
        "scripts/kafka-broker was not found; run `clew demo` from a clew source checkout, "
        f"set {BROKER_SCRIPT_ENV}, or give a running broker in KAFKA_BOOTSTRAP_SERVERS"
    )


JAVA_MISSING = (
    "clew demo runs a Kafka broker, which needs Java 17 or newer (and Maven, the first time, to"
    " fetch the broker's jars): install them (Debian/Ubuntu: `sudo apt-get install"
    " openjdk-17-jre-headless maven`, or `scripts/install-test-deps` in the checkout),"
    " or give a running broker in KAFKA_BOOTSTRAP_SERVERS"
)


def check_broker_can_start() -> None:
    """Fail before anything starts when the broker script or its Java is missing."""
    broker_script()
    home = os.environ.get("JAVA_HOME")
    java = shutil.which(str(Path(home) / "bin" / "java")) if home else shutil.which("java")
    if java is None:
        raise StartError(JAVA_MISSING)


def start_kafka(stack: Stack, data_dir: Path) -> str:
    """The project's Kafka broker unless KAFKA_BOOTSTRAP_SERVERS names one; its bootstrap."""
    given = os.environ.get(common.KAFKA_BOOTSTRAP)
    if given:
        return given
    argv = [sys.executable, str(broker_script()), "--data-dir", str(data_dir / "kafka")]
    child = stack.start("kafka-broker", argv, {}, stdout=subprocess.PIPE)
    assert child.process.stdout is not None
    ready = wait_line(child, child.process.stdout, b"ready ", BROKER_START_SECONDS)
    return str(ready.split()[1])


@dataclass(frozen=True)
class Telemetry:
    """Where the services send spans and logs."""

    endpoint: str
    kafka: str
    data_dir: Path


def start_shop(stack: Stack, telemetry: Telemetry) -> dict[str, str]:
    """Every shop service on a free loopback port; their URLs by name."""
    urls = {name: f"http://127.0.0.1:{free_port()}" for name, _ in SERVICES}
    shared = {URL_VARIABLES[name]: url for name, url in urls.items() if name in URL_VARIABLES}
    started = []
    for name, app in SERVICES:  # all at once: each takes a second or two to import
        env = {**shared, **telemetry_env(name, telemetry)}
        port = urls[name].rsplit(":", 1)[1]
        argv = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", port,
                "--no-access-log"]  # fmt: skip
        started.append((stack.start(name, argv, env), urls[name]))
    for child, url in started:
        wait_http(child, f"{url}/healthz")
    return urls


def telemetry_env(name: str, telemetry: Telemetry) -> dict[str, str]:
    return {
        "OTEL_SERVICE_NAME": name,
        "OTEL_EXPORTER_OTLP_ENDPOINT": telemetry.endpoint,
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=demo",
        # Export within half a second, so an order's story is complete soon after it ends.
        "OTEL_BSP_SCHEDULE_DELAY": "500",
        "OTEL_BLRP_SCHEDULE_DELAY": "500",
        common.KAFKA_BOOTSTRAP: telemetry.kafka,
        common.DATA_DIR: str(telemetry.data_dir / "shop"),
    }


def client_host(host: str) -> str:
    """Where to connect to a server listening on `host` (any-address means loopback)."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
