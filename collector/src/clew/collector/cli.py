"""The `clew` command: a click group; `serve` here, other parts add theirs by entry point."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from clew.collector.errors import CollectorError
from clew.collector.settings import Settings
from clew.common.tls import TLSConfigError


@contextmanager
def startup_errors() -> Iterator[None]:
    """Turn a bad setting or a refused start into one line on stderr and exit status 1."""
    try:
        yield
    except ValidationError as exc:
        problems = "; ".join(
            f"CLEW_{'_'.join(map(str, error['loc'])).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise click.ClickException(f"invalid setting: {problems}") from exc
    except (CollectorError, TLSConfigError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def main() -> None:
    """clew: distributed tracing and log correlation over OpenTelemetry and ClickHouse."""


@main.command()
@click.option("--host", help="Address to listen on [CLEW_HOST, default 127.0.0.1].")
@click.option("--http-port", type=int, help="OTLP/HTTP port [CLEW_OTLP_HTTP_PORT, 4318].")
@click.option("--grpc-port", type=int, help="OTLP/gRPC port [CLEW_OTLP_GRPC_PORT, 4317].")
@click.option("--ui-port", type=int, help="Query UI port [CLEW_UI_PORT, 8080].")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data folder [CLEW_DATA_DIR].")
def serve(
    host: str | None,
    http_port: int | None,
    grpc_port: int | None,
    ui_port: int | None,
    data_dir: Path | None,
) -> None:
    """Receive OTLP on HTTP and gRPC and store it in the embedded ClickHouse."""
    from clew.collector.app import serve as run  # keeps `clew --help` fast

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    given = {
        "host": host,
        "otlp_http_port": http_port,
        "otlp_grpc_port": grpc_port,
        "ui_port": ui_port,
        "data_dir": data_dir,
    }
    overrides: dict[str, Any] = {key: value for key, value in given.items() if value is not None}
    with startup_errors():
        run(Settings(**overrides))


@main.command()
@click.option("--cluster", help="A ClickHouse cluster: ON CLUSTER, replicated and distributed.")
def schema(cluster: str | None) -> None:
    """Print the schema's DDL (retention from CLEW_RETENTION_DAYS), to apply by hand.

    `clew serve` applies the same statements at start-up (on the cluster of
    CLEW_CLICKHOUSE_URL's `?cluster=`), and also writes the business keys and aligns retention.
    """
    from clew.collector.schema.apply import schema_files, statements
    from clew.collector.schema.cluster import cluster_statements

    days = Settings().retention_days
    if cluster is None:
        ddl = [stmt for _, text in schema_files() for stmt in statements(text, days)]
    else:
        try:
            ddl = cluster_statements(schema_files(), cluster, days)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--cluster") from exc
    for stmt in ddl:
        click.echo(f"{stmt};\n")


def _add_plugin_commands(group: click.Group) -> None:
    for point in entry_points(group="clew.cli"):
        if point.name in group.commands:
            continue
        try:
            command = point.load()
        except Exception as exc:  # a broken plugin must not take `clew serve` down
            click.echo(f"clew: could not load command {point.name!r}: {exc}", err=True)
            continue
        group.add_command(command, name=point.name)


_add_plugin_commands(main)
