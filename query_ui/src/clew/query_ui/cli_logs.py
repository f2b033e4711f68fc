"""`clew logs`: log records from a running clew's JSON API, one line each, oldest first.

With -f it then follows new records through the live tail (server-sent events), reconnecting
with the last event's id as the browser does. Coloured by severity on a terminal (click drops
the colours when the output is not one); control characters in stored strings are shown
escaped, so a log body cannot drive the terminal.
"""

from __future__ import annotations

import json
import re
import ssl
import time
from collections.abc import Iterator
from typing import Any

import click
import httpx

from clew.query_ui.cli import api_options, fetch

COLOURS = {"FATAL": "magenta", "ERROR": "red", "WARN": "yellow", "INFO": "green",
           "DEBUG": "blue", "TRACE": "white"}  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(value: str) -> str:
    """`value` with terminal control characters shown as escapes (`\\x1b`)."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group(0)):02x}", value)


def line(log: dict[str, Any]) -> str:
    """One record as a terminal line: time, severity, service, body, trace and attributes."""
    level = str(log["severity"])
    parts = [str(log["time"]), click.style(f"{level:<5}", fg=COLOURS.get(level), bold=True)]
    parts += [click.style(printable(str(log["service"])), fg="cyan"), printable(str(log["body"]))]
    if log["trace_id"]:
        parts.append(click.style(f"trace={log['trace_id']}", dim=True))
    attrs = " ".join(f"{k}={v}" for k, v in sorted(log["attributes"].items()))
    if attrs:
        parts.append(click.style(printable(attrs), dim=True))
    return " ".join(parts)


def show(logs: list[dict[str, Any]], as_json: bool) -> None:
    """Print records in the order given."""
    for log in logs:
        click.echo(json.dumps(log, ensure_ascii=False) if as_json else line(log))


def events(
    url: str, params: dict[str, Any], headers: dict[str, str], verify: Any
) -> Iterator[tuple[str, str, str]]:
    """(event, id, data) of one tail stream, until the server ends it."""
    kind, ident, data = "message", "", ""
    with httpx.stream("GET", url.rstrip("/") + "/api/logs/tail", params=params,
                      headers=headers, timeout=httpx.Timeout(60, read=None),
                      verify=verify) as response:  # fmt: skip
        if response.status_code >= 400:
            raise click.ClickException(f"clew answered {response.status_code}: {response.read()!r}")
        for raw in response.iter_lines():
            if not raw:
                if data:
                    yield kind, ident, data
                kind, data = "message", ""
                continue
            name, _, value = raw.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                kind = value
            elif name == "id":
                ident = value
            elif name == "data":
                data += value


def follow(url: str, params: dict[str, Any], after: str, as_json: bool, auth: dict[str, str],
           verify: Any) -> None:  # fmt: skip
    """Print new records as they arrive, until interrupted."""
    while True:
        headers = auth | ({"Last-Event-ID": after} if after else {})
        try:
            for kind, ident, data in events(url, params, headers, verify):
                after = ident or after
                if kind == "logs":
                    body = json.loads(data)
                    for note in body.get("limits", []):
                        click.echo(f"clew: {note}", err=True)
                    show(body["logs"], as_json)
        except httpx.HTTPError as exc:
            click.echo(f"clew: tail interrupted ({exc}); reconnecting", err=True)
            time.sleep(1)


@click.command()
@click.option("--since", default="1h", show_default=True, help="Relative range: 15m, 1h, 2d.")
@click.option("--start", default="", help="Absolute start (RFC 3339).")
@click.option("--end", default="", help="Absolute end (RFC 3339); default now.")
@click.option("--severity", default="", help="At least: trace, debug, info, warn, error, fatal.")
@click.option("--service", default="", help="The service that wrote the record.")
@click.option("--grep", "text", default="", help='Words, "phrases", -excluded (case-insensitive).')
@click.option("--attr", multiple=True, help="key=value on the record or its resource; repeat.")
@click.option("--trace", "trace_id", default="", help="Records of this trace.")
@click.option("--order", "order_id", default="", help="Records of this order (order.id).")
@click.option("--has-trace", type=click.Choice(["any", "yes", "no"]), default="any")
@click.option("--limit", type=click.IntRange(1, 100), default=100, show_default=True)
@click.option("-f", "--follow", "following", is_flag=True, help="Then print new records.")
@api_options
def logs(
    since: str, start: str, end: str, severity: str, service: str, text: str,
    attr: tuple[str, ...], trace_id: str, order_id: str, has_trace: str, limit: int,
    following: bool, url: str, as_json: bool, token: str | None, ca_file: str | None,
) -> None:  # fmt: skip
    """Print log records matching every filter (one JSON object a line with --json)."""
    params: dict[str, Any] = {"lookback": since, "start": start, "end": end, "service": service,
                              "severity": severity, "text": text, "tag": list(attr),
                              "trace_id": trace_id, "has_trace": has_trace}  # fmt: skip
    if order_id:
        params |= {"key": "order.id", "key_value": order_id}
    params = {k: v for k, v in params.items() if v not in ("", [], "any")}
    body = fetch(url, "/api/logs", params | {"limit": limit}, token=token, ca_file=ca_file)
    for note in body.get("limits", []):
        click.echo(f"clew: {note}", err=True)
    show(list(reversed(body["logs"])), as_json)
    if following:
        newest = str(body["logs"][0]["time_unix_nano"]) if body["logs"] else ""
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        verify = ssl.create_default_context(cafile=ca_file) if ca_file else True
        tail_params = {k: v for k, v in params.items() if k not in ("start", "end")}
        follow(url, tail_params | {"seconds": 300}, newest, as_json, auth, verify)
