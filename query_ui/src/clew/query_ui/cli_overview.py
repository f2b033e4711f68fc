"""`clew services` and `clew failures`: the overview's JSON API as terminal tables."""

from __future__ import annotations

import re
from typing import Any

import click

from clew.query_ui.cli import api_options, emit, fetch

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(value: object, width: int = 0) -> str:
    """A stored string safe for a terminal (no escapes), cut to `width`."""
    text = _CONTROL.sub("?", str(value))
    return text if not width or len(text) <= width else text[: width - 1] + "…"


def range_options(command: Any) -> Any:
    """--since (or --start/--end): the range the overview covers."""
    command = click.option("--end", default="", help="Absolute end (RFC 3339); default now.")(
        command
    )
    command = click.option("--start", default="", help="Absolute start (RFC 3339).")(command)
    return click.option(
        "--since", "lookback", default="1h", show_default=True, help="Range ending now: 15m ... 7d."
    )(command)


def services_table(body: dict[str, Any]) -> str:
    """Services worst first, one a line."""
    lines = [f"{'SERVICE':<28} {'REQ/S':>8} {'REQUESTS':>9} {'ERRORS':>7} {'ERR%':>6} "
             f"{'P50 MS':>9} {'P95 MS':>9} {'P99 MS':>9}"]  # fmt: skip
    for s in body["services"]:
        lines.append(
            f"{_clean(s['name'], 28):<28} {s['rate_per_s']:>8.3g} {s['requests']:>9} "
            f"{s['errors']:>7} {s['error_rate'] * 100:>6.1f} {s['p50_ms']:>9.3g} "
            f"{s['p95_ms']:>9.3g} {s['p99_ms']:>9.3g}"
        )
    if not body["services"]:
        lines.append("(no server or consumer spans in this range)")
    return "\n".join(lines) + "\n"


def failures_table(body: dict[str, Any]) -> str:
    """Failure groups, the biggest first, one a line, with an example to ask `clew why`."""
    lines = [f"{'COUNT':>5}  {'KIND':<8} {'NEW':<3}  {'LAST SEEN':<28} {'ROOT CAUSE':<60} EXAMPLE"]
    for g in body["groups"]:
        kind = "business" if g["business"] else "fault"
        cause = f"{g['service']} {g['operation']}: {g['error_type']} {g['message']}"
        example = next(iter(g["examples"]), {"value": ""})["value"]
        lines.append(
            f"{g['count']:>5}  {kind:<8} {'yes' if g['new'] else '':<3}  {g['last_seen']:<28} "
            f"{_clean(cause, 60):<60} {_clean(example)}"
        )
    if not body["groups"]:
        lines.append("(no failed orders or traces in this range)")
    return "\n".join(lines) + "\n"


@click.command()
@range_options
@api_options
def services(
    lookback: str, start: str, end: str, url: str, as_json: bool, token: str | None,
    ca_file: str | None,
) -> None:  # fmt: skip
    """Every service's request rate, error rate and latency, worst first."""
    params = {"lookback": lookback, "start": start, "end": end}
    body = fetch(url, "/api/services", params, token=token, ca_file=ca_file)
    emit(body, as_json, services_table)


@click.command()
@range_options
@click.option("--service", default="", help="Only groups whose root cause is in this service.")
@api_options
def failures(
    lookback: str, start: str, end: str, service: str, url: str, as_json: bool,
    token: str | None, ca_file: str | None,
) -> None:  # fmt: skip
    """Failed orders and traces grouped by root cause, the biggest group first."""
    params = {"lookback": lookback, "start": start, "end": end, "service": service}
    body = fetch(url, "/api/failures", params, token=token, ca_file=ca_file)
    emit(body, as_json, failures_table)
