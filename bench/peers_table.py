"""bench/peers.py's one table: a row per figure, a column per system, then clew/peer ratios.
Every cell carries the 1-minute load average taken with its figure, in brackets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from peers_load import Step

Cell = tuple[str, float | None]  # the text shown, the number a ratio is taken of


def step_rows(label: str) -> list[tuple[str, Callable[[Step], Cell]]]:
    return [
        (f"{label}: spans offered / accepted / stored",
         lambda s: (f"{s.offered:,.0f} / {s.accepted:,.0f} / {s.stored:,.0f}", s.stored)),
        ("  stored spans/s sustained (until the last one is stored)",
         lambda s: (f"{s.rate:,.0f}", s.rate)),
        ("  spans stored per server CPU-second", lambda s: (f"{s.per_cpu:,.0f}", s.per_cpu)),
        ("  server peak RSS, MiB", lambda s: (f"{s.rss / 2**20:,.0f}", s.rss / 2**20)),
    ]  # fmt: skip


def labels(results: list[Any]) -> list[str]:
    """Every step label, the paced ones first in rising rate, as the systems ran them."""
    seen = dict.fromkeys(s.label for r in results for s in r.steps)
    paced = [label for label in seen if label.startswith("telemetrygen")]
    paced.sort(key=lambda label: float(label.split()[2].replace(",", "")))
    return paced + [label for label in seen if label not in paced]


def rows(results: list[Any], lookup_spans: int) -> list[tuple[str, list[Cell | None]]]:
    out: list[tuple[str, list[Cell | None]]] = []
    for label in labels(results):
        for name, cell in step_rows(label):
            found = [next((s for s in r.steps if s.label == label), None) for r in results]
            out.append((name, [with_load(cell(s), s.load) if s else None for s in found]))
    stored = [stored_cell(r) for r in results]
    out.append((f"trace by id: spans stored (of {lookup_spans:,} offered)", stored))
    out.append(("  trace by id over HTTP: p50, ms", [lookup_cell(r, 0) for r in results]))
    out.append(("  p99, ms", [lookup_cell(r, 1) for r in results]))
    for figure, name in (
        ("right after", "bytes per span on disk, right after the stop"),
        ("an hour after", "  an hour after (merged-away parts deleted)"),
        ("active parts", "  of which the store's active parts (disk blocks)"),
        ("spool", "  of which the spool"),
    ):
        out.append((name, [disk_cell(r, figure) for r in results]))  # fmt: skip
    return out


def with_load(cell: Cell, load: float) -> Cell:
    return (f"{cell[0]} [{load:.1f}]", cell[1])


def stored_cell(result: Any) -> Cell | None:
    step = result.lookup_load
    return with_load((f"{step.stored:,.0f}", step.stored), step.load) if step else None


def lookup_cell(result: Any, index: int) -> Cell | None:
    if result.lookup is None:
        return None
    return with_load((f"{result.lookup[index]:.1f}", result.lookup[index]), result.lookup[2])


def disk_cell(result: Any, figure: str) -> Cell | None:
    if figure not in result.disk:
        return None
    value = result.disk[figure]
    return with_load((f"{value:,.0f}", value), result.lookup_load.load)


def table(results: list[Any], lookup_spans: int) -> str:
    """The Markdown table; ratio columns compare the first system (clew) with each other."""
    names = [r.name for r in results]
    ratios = [f"{names[0]} / {n}" for n in names[1:]]
    lines = ["| figure | " + " | ".join(names + ratios) + " |"]
    lines.append("|---|" + "---:|" * (len(names) + len(ratios)))
    for name, cells in rows(results, lookup_spans):
        shown = [c[0] if c else "—" for c in cells]
        shown += [ratio(cells[0], c) for c in cells[1:]]
        lines.append(f"| {name} | " + " | ".join(shown) + " |")
    lines.append("[n]: the 1-minute load average when the figure was taken; —: not measured "
                 "(a system that fell behind runs no higher rate; no disk in memory)")  # fmt: skip
    return "\n".join(lines)


def ratio(ours: Cell | None, theirs: Cell | None) -> str:
    if not ours or not theirs or not ours[1] or not theirs[1]:
        return "—"
    return f"{ours[1] / theirs[1]:.2f}x"
