"""`clew ui`, `clew why`, `clew trace`, `clew search`: added to the `clew` group by entry point.

`why`, `trace` and `search` are clients of a running clew's JSON API (`--url`); `ui` serves the
UI alone over a ClickHouse server.
"""

from __future__ import annotations

import contextlib
import json
import signal
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import click
import httpx

from clew.query_ui import text
from clew.query_ui.settings import Settings

DEFAULT_URL = "http://127.0.0.1:8080"
url_option = click.option(
    "--url",
    default=DEFAULT_URL,
    show_default=True,
    envvar="CLEW_URL",
    help="Base URL of a running clew (its UI port) [CLEW_URL].",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
token_option = click.option(
    "--token",
    envvar="CLEW_UI_TOKEN",
    default=None,
    help="The UI's token, sent as Authorization: Bearer [CLEW_UI_TOKEN].",
)
ca_option = click.option(
    "--ca-file",
    envvar="CLEW_UI_CA_FILE",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="PEM CA to verify an https clew against [CLEW_UI_CA_FILE].",
)


def api_options(command: Any) -> Any:
    """--url, --json, --token and --ca-file: what every API client command takes."""
    for option in (ca_option, token_option, json_option, url_option):
        command = option(command)
    return command


def fetch(
    url: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    ca_file: str | None = None,
) -> dict[str, Any]:
    """GET a JSON API path; any failure becomes a one-line error and exit status 1."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(
            url.rstrip("/") + path,
            params=params,
            headers=headers,
            timeout=60,
            verify=ssl.create_default_context(cafile=ca_file) if ca_file else True,
        )
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"could not reach clew at {url} ({exc}); is it running?"
        ) from exc
    if response.status_code == 401:
        raise click.ClickException(
            f"clew at {url} wants its UI token: pass --token or set CLEW_UI_TOKEN"
            + (" (the one given was refused)" if token else "")
        )
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise click.ClickException(
            f"{url} answered {response.status_code}, not clew's JSON"
        ) from None
    if response.status_code >= 400:
        raise click.ClickException(
            f"{body.get('error', response.status_code)}: {body.get('detail', '')}"
        )
    return body


def emit(body: dict[str, Any], as_json: bool, render: Any) -> None:
    """Print JSON or the text rendering; limits the server hit go to stderr."""
    for note in body.get("limits", []):
        click.echo(f"clew: {note}", err=True)
    click.echo(
        json.dumps(body, indent=2, ensure_ascii=False) if as_json else render(body), nl=as_json
    )


@click.command()
@click.argument("order_id")
@click.option("--key", default="order.id", show_default=True, help="The business key of the value.")
@api_options
def why(
    order_id: str, key: str, url: str, as_json: bool, token: str | None, ca_file: str | None
) -> None:
    """Say why an order (or any business key value) failed."""
    path = f"/api/keys/{quote(key, safe='')}/{quote(order_id, safe='')}/diagnosis"
    emit(fetch(url, path, token=token, ca_file=ca_file), as_json, text.diagnosis)


@click.command()
@click.argument("trace_id")
@click.option("--stats", is_flag=True, help="Per service and operation: count, total, self time.")
@api_options
def trace(
    trace_id: str, stats: bool, url: str, as_json: bool, token: str | None, ca_file: str | None
) -> None:
    """Print a trace as a text waterfall with its logs (or, with --stats, its statistics)."""
    tid = quote(trace_id.strip(), safe="")
    if stats:
        from clew.query_ui.stats import text_table

        body = fetch(url, f"/api/traces/{tid}/stats", token=token, ca_file=ca_file)
        emit(body, as_json, text_table)
        return
    body = fetch(url, f"/api/traces/{tid}", token=token, ca_file=ca_file)
    logs = fetch(url, f"/api/traces/{tid}/logs", token=token, ca_file=ca_file)
    body |= {"logs": logs["logs"], "limits": list(dict.fromkeys(body["limits"] + logs["limits"]))}
    emit(body, as_json, lambda full: text.waterfall(full, full["logs"]))


@click.command()
@click.option("--lookback", default="1h", show_default=True, help="Relative range: 15m, 1h, 2d.")
@click.option("--start", default="", help="Absolute start (RFC 3339).")
@click.option("--end", default="", help="Absolute end (RFC 3339); default now.")
@click.option("--service", default="", help="A service with a span in the trace.")
@click.option("--operation", default="", help="A span name.")
@click.option("--tag", multiple=True, help="key=value on any span of the trace; repeat.")
@click.option("--status", type=click.Choice(["any", "error", "ok"]), default="any")
@click.option("--min-duration", default="", help="Trace duration at least: 250ms, 1.5s.")
@click.option("--max-duration", default="", help="Trace duration at most.")
@click.option("--key", default="", help="Business key of --key-value (default: the first).")
@click.option("--key-value", default="", help="Only traces of this business key value.")
@click.option(
    "--sort", type=click.Choice(["start", "duration", "spans", "errors"]), default="start"
)
@click.option("--order", type=click.Choice(["desc", "asc"]), default="desc")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@api_options
def search(
    url: str,
    as_json: bool,
    token: str | None,
    ca_file: str | None,
    tag: tuple[str, ...],
    **filters: Any,
) -> None:
    """List traces like the search page; conditions apply to the whole trace."""
    params = {name: value for name, value in filters.items() if value not in ("", None)}
    body = fetch(url, "/api/traces", params | {"tag": list(tag)}, token=token, ca_file=ca_file)
    emit(body, as_json, text.search_results)


@click.command()
@click.option("--host", help="Address to listen on [CLEW_HOST, default 127.0.0.1].")
@click.option("--ui-port", type=int, help="UI port [CLEW_UI_PORT, 8080].")
@click.option("--clickhouse-url", help="The ClickHouse server [CLEW_CLICKHOUSE_URL].")
def ui(host: str | None, ui_port: int | None, clickhouse_url: str | None) -> None:
    """Serve the UI alone, over a ClickHouse server (the embedded store: use `clew serve`)."""
    from clew.collector.cli import startup_errors  # imported here to keep `clew --help` fast

    given: dict[str, Any] = {"host": host, "ui_port": ui_port, "clickhouse_url": clickhouse_url}
    with startup_errors():
        settings = Settings(**{k: v for k, v in given.items() if v is not None})
    if settings.ui_clickhouse_url:  # alone, the UI needs no connection but its read-only one
        update = {"clickhouse_url": settings.ui_clickhouse_url, "ui_clickhouse_url": None}
        settings = settings.model_copy(update=update)
    if not settings.clickhouse_url:
        raise click.UsageError(
            "`clew ui` alone needs a ClickHouse server: set CLEW_CLICKHOUSE_URL "
            "(or --clickhouse-url), e.g. http://default:@127.0.0.1:8123/default. "
            "The embedded store belongs to one process: run `clew serve`, which serves "
            "the UI on --ui-port too."
        )
    _serve(settings)


# The tables the UI reads; the collector (`clew serve`) creates them, `clew ui` only reads.
READ_TABLES = (
    "otel_traces",
    "otel_traces_trace_id_ts",
    "otel_logs",
    "clew_business_keys",
    "clew_failed_spans",
)


def _serve(settings: Settings) -> None:
    import uvicorn

    from clew.collector.cli import startup_errors
    from clew.collector.errors import CollectorError
    from clew.collector.store.server import open_server_store
    from clew.common.runtime import tune_gc
    from clew.common.tls import server_tls
    from clew.query_ui.app import create_app

    assert settings.clickhouse_url is not None  # ui() refuses to start without one
    try:
        url = settings.clickhouse_url.get_secret_value()
        store = open_server_store(url, ca_file=settings.clickhouse_ca_file)
    except CollectorError as exc:  # an unreachable server or a bad URL: one line, no traceback
        raise click.ClickException(f"cannot open the ClickHouse server: {exc}") from exc
    try:
        _check_tables(store)
        app = create_app(settings, store)
        with startup_errors():
            tls = server_tls(settings)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.ui_port,
            log_level="info",
            ssl_certfile=tls.cert_file if tls else None,
            ssl_keyfile=tls.key_file if tls else None,
        )
        tune_gc()
        _server_class(uvicorn.Server)(config).run()
    finally:
        store.close()


def _server_class(base: Any) -> Any:
    """uvicorn's server, minus re-raising SIGTERM after its graceful stop: the store closes and
    `clew ui` exits 0, as a service manager expects of a clean stop."""

    class QuietServer(base):  # type: ignore[misc]
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            signals = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return QuietServer


def _check_tables(store: Any) -> None:
    """Stop at start-up, not at every page, when the database holds no clew data."""
    sql = (
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND name IN {names:Array(String)}"
    )
    found = {str(row[0]) for row in store.query(sql, {"names": list(READ_TABLES)}).rows}
    missing = [name for name in READ_TABLES if name not in found]
    if missing:
        raise click.ClickException(
            f"the ClickHouse database has no {', '.join(missing)}: start the collector "
            "(`clew serve` with the same CLEW_CLICKHOUSE_URL) once to create clew's tables"
        )
