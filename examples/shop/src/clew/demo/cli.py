"""`clew demo`: the embedded stack, a Kafka broker, the shop and its traffic, in one command."""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

import click

from clew.collector.settings import Settings
from clew.demo import services
from clew.demo.scenarios import plan
from clew.demo.shop import common
from clew.demo.stack import Stack, StartError, port_in_use
from clew.demo.traffic import Outcome, Shop, place_all

DEFAULT_UI = "http://127.0.0.1:8080"
"""Where `clew why` looks by default; other addresses are printed with --url."""
EXPORT_SECONDS = 2.5
"""Time for the services' last spans to reach the collector (their exporters send every 0.5 s)
and be inserted, on top of the collector's batch age, before failures are listed."""


class Interrupted(Exception):
    """SIGINT or SIGTERM: stop everything that was started."""


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


@click.command()
@click.option("--orders", "order_count", type=click.IntRange(min=1), default=24, show_default=True,
              help="How many orders the traffic generator places.")  # fmt: skip
@click.option("--seed", type=int, default=7, show_default=True,
              help="Seed of which orders fail how (the same seed, the same failures).")  # fmt: skip
@click.option("--host", help="Address clew listens on [CLEW_HOST, default 127.0.0.1].")
@click.option("--http-port", type=int, help="OTLP/HTTP port [CLEW_OTLP_HTTP_PORT, 4318].")
@click.option("--grpc-port", type=int, help="OTLP/gRPC port [CLEW_OTLP_GRPC_PORT, 4317].")
@click.option("--ui-port", type=int, help="Query UI port [CLEW_UI_PORT, 8080].")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data folder [CLEW_DATA_DIR].")
def demo(order_count: int, seed: int, **options: Any) -> None:
    """Run clew, a Kafka broker and a small shop whose orders fail; Ctrl-C stops it all.

    Starts `clew serve`, the broker (unless KAFKA_BOOTSTRAP_SERVERS is set; it needs Java 17+,
    and Maven on its first run), the shop's services, and places orders; then prints each
    failed order as the command that explains it.
    """
    settings = _settings(options)
    stack = Stack(settings.data_dir / "demo-logs")
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _run(stack, settings, order_count, seed)
        click.echo("The stack keeps running for the UI; press Ctrl-C to stop it.")
        while True:
            time.sleep(3600)
    except Interrupted:
        click.echo("\nstopping ...", err=True)
    except StartError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        # A second Ctrl-C must not cut the shutdown short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        click.echo("stopped.", err=True)


def _settings(options: dict[str, Any]) -> Settings:
    names = {"http_port": "otlp_http_port", "grpc_port": "otlp_grpc_port"}
    given = {names.get(k, k): v for k, v in options.items() if v is not None}
    return Settings(**given)


def _check_ports(settings: Settings) -> None:
    """Refuse to start beside another clew, rather than send the shop's data to it."""
    for port in (settings.otlp_http_port, settings.otlp_grpc_port, settings.ui_port):
        if port_in_use(settings.host, port):
            raise StartError(
                f"port {port} on {settings.host} is in use (is `clew serve` already running?);"
                " choose others with --http-port, --grpc-port and --ui-port"
            )


def _run(stack: Stack, settings: Settings, order_count: int, seed: int) -> None:
    _check_ports(settings)
    if not os.environ.get(common.KAFKA_BOOTSTRAP):
        services.check_broker_can_start()  # fail before starting anything
    host = services.client_host(settings.host)
    click.echo(f"starting clew (data in {settings.data_dir}, logs in {stack.log_dir}) ...")
    services.start_clew(stack, settings)
    click.echo("starting Kafka ...")
    kafka = services.start_kafka(stack, settings.data_dir)
    click.echo(f"starting the shop (Kafka at {kafka}) ...")
    telemetry = services.Telemetry(f"http://{host}:{settings.otlp_http_port}", kafka,
                                   settings.data_dir)  # fmt: skip
    urls = services.start_shop(stack, telemetry)
    ui = f"http://{host}:{settings.ui_port}"
    click.echo(f"clew UI: {ui}/")
    shop = Shop(urls["gateway"], urls["orders"], urls["inventory"])
    _traffic(shop, order_count, seed, ui, settings.batch_max_age)


def _traffic(shop: Shop, order_count: int, seed: int, ui: str, batch_age: float) -> list[Outcome]:
    """Place the seeded orders, wait for their spans to be stored (the collector writes a batch
    after `batch_age` seconds), then list the failed ones as the command that explains each."""
    outcomes: list[Outcome] = place_all(
        shop, plan(seed, order_count, secrets.token_hex(3)), _progress
    )
    sys.stderr.write("\n")
    time.sleep(EXPORT_SECONDS + batch_age)
    failed = [outcome for outcome in outcomes if outcome.failed]
    click.echo(f"{len(outcomes)} orders, {len(failed)} failed; open one, or ask clew why:")
    url = "" if ui == DEFAULT_UI else f" --url {shlex.quote(ui)}"
    clew = clew_command()
    for outcome in failed:
        order_id = outcome.order.order_id
        click.echo(f"{order_id}  {ui}/orders/{quote(order_id, safe='')}")
        click.echo(f"    {clew} why {shlex.quote(order_id)}{url}")
    return outcomes


def clew_command() -> str:
    """How to run `clew` in the shell that started this one: `uv run clew` when uv started it
    (`uv run` puts the project's environment on the PATH of its command only), `clew` when that
    name finds this program, else the program's full path."""
    if os.environ.get("UV"):  # set by `uv run` for the commands it runs
        return "uv run clew"
    started = Path(sys.argv[0]).resolve()
    on_path = shutil.which("clew")
    if on_path is not None and Path(on_path).resolve() == started:
        return "clew"
    return shlex.quote(str(started))


def _progress(outcomes: list[Outcome]) -> None:
    failed = sum(1 for outcome in outcomes if outcome.failed)
    # One line, rewritten in place on a terminal.
    end = "\r" if sys.stderr.isatty() else "\n"
    sys.stderr.write(f"orders placed: {len(outcomes)}, failed: {failed}{end}")
    sys.stderr.flush()


@click.command()
@click.option("--gateway", required=True, help="Base URL of the shop's gateway.")
@click.option("--orders-service", required=True, help="Base URL of the shop's orders service.")
@click.option("--inventory", required=True, help="Base URL of the shop's inventory service.")
@click.option("--ui", default=DEFAULT_UI, show_default=True, help="Base URL of the clew UI.")
@click.option("--orders", "order_count", type=click.IntRange(min=1), default=24, show_default=True,
              help="How many orders to place.")  # fmt: skip
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the faults.")
def traffic(
    gateway: str, orders_service: str, inventory: str, ui: str, order_count: int, seed: int
) -> None:
    """Place the demo's orders against a shop that is already running (docker-compose)."""
    # The collector's batch age as this environment sets it (its default when it does not).
    batch_age = Settings().batch_max_age
    outcomes = _traffic(Shop(gateway, orders_service, inventory), order_count, seed, ui, batch_age)
    if not outcomes:
        raise click.ClickException("no order was placed")
