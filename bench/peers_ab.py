"""clew against another checkout of clew under the same paced telemetrygen load: an A/B of an
ingest change in server CPU and memory, the way docs/adr/0007 (session 10) measured them.

    uv run python bench/peers_ab.py --base /path/to/other/checkout [--rates 5000,10000,20000]
        [--rounds 2] [--seconds 20]

Each round starts a fresh `clew serve` of this tree and one of the base checkout (its sources
first on PYTHONPATH, so `git worktree add /tmp/base <commit>` is enough), the order alternating
from round to round, and steps each through the rates on that one server, as bench/peers.py
does. Per step it prints spans stored per server CPU-second, peak RSS, the server's user and
system CPU, and its page faults (major ones are pages read back from disk). The machine drifts
by a third within minutes: compare the two columns of one round, not rounds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers_build
import peers_load as load
from peers import DRAIN
from peers_systems import Clew

SOURCES = ("collector/src", "query_ui/src", "instrumentation/src")
# Fields of peers_load.stat_fields: minor and major faults, user and system CPU (clock ticks).
COUNTERS = (7, 9, 11, 12)


class BaseClew(Clew):
    """`clew serve` run from another checkout's sources."""

    base: Path

    def env(self) -> dict[str, str]:
        paths = [str(self.base / source) for source in SOURCES]
        return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def steps(kind: type[Clew], telemetrygen: Path, rates: list[float], seconds: int) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory(prefix="clew-ab-") as tmp:
        system = kind(Path(tmp))
        try:
            for rate in rates:
                before = load.stat_fields(system.process.pid)
                step = load.paced(telemetrygen, system, rate, seconds, DRAIN)
                after = load.stat_fields(system.process.pid)
                minor, major, user, kernel = (int(after[n]) - int(before[n]) for n in COUNTERS)
                ticks = os.sysconf("SC_CLK_TCK")
                lines.append(
                    f"{rate:>8,.0f}/s {step.per_cpu:>8,.0f} spans/CPU-s"
                    f"  RSS {step.rss >> 20:>4} MiB  user {user / ticks:5.2f} s"
                    f"  system {kernel / ticks:5.2f} s  faults {major} major,"
                    f" {minor:,} minor  [load {step.load:.1f}]"
                )
        finally:
            system.stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rates", default="5000,10000,20000", help="paced spans/s, in order")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    if not all((args.base / source).is_dir() for source in SOURCES):
        raise SystemExit(f"{args.base} is not a clew checkout (no {', '.join(SOURCES)})")
    rates = [float(rate) for rate in args.rates.split(",")]
    telemetrygen = peers_build.build().telemetrygen
    BaseClew.base = args.base.resolve()
    systems: list[tuple[str, type[Clew]]] = [("this tree", Clew), (f"base {args.base}", BaseClew)]
    for round_ in range(args.rounds):
        for name, kind in systems if round_ % 2 == 0 else systems[::-1]:
            print(f"round {round_ + 1}, {name}:", flush=True)
            for line in steps(kind, telemetrygen, rates, args.seconds):
                print(f"  {line}", flush=True)


if __name__ == "__main__":
    main()
