"""Soak: the reliability scenarios of tests/reliability with larger sizes; prints figures.

    uv run python bench/soak.py --seconds 60 --outage 60 --kills 3 --overload 30

Runs real `clew serve` processes (embedded chDB, and the server backend against the
ClickHouse HTTP stand-in of tests/support) and prints, per scenario: spans/s held, spans
acknowledged, stored, lost and duplicated, plus the scenario's own figures and the load
average. Exits 1 if any acknowledged span was lost.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability import scenarios  # noqa: E402
from tests.reliability.load import Figures  # noqa: E402
from tests.support.clew_server import ClewServer  # noqa: E402
from tests.support.clickhouse_http import FakeClickHouse  # noqa: E402


class Servers:
    """Makes ClewServers in a temp folder and stops whatever is still running at the end."""

    def __init__(self, root: Path) -> None:
        self.root, self.made = root, list[ClewServer]()

    def __call__(self, env: Mapping[str, str]) -> ClewServer:
        server = ClewServer(self.root / f"data-{len(self.made)}", env)
        self.made.append(server)
        return server

    def stop_all(self) -> None:
        for server in self.made:
            server.stop()


def run(args: argparse.Namespace, root: Path) -> list[Figures]:
    servers = Servers(root)
    clickhouse = FakeClickHouse(root / "clickhouse", root / "clickhouse.log")
    clickhouse.start()
    try:
        database = f"soak_{uuid.uuid4().hex[:8]}"
        clickhouse.post(f"CREATE DATABASE {database}")
        url = clickhouse.url_for(database)
        return [
            scenarios.load_held(servers, args.seconds, senders=args.senders),
            scenarios.store_down(servers, clickhouse, url, args.outage, rate=args.rate),
            scenarios.sigkill(servers, kills=args.kills, between=args.between),
            scenarios.overload(servers, args.overload),
        ]
    finally:
        servers.stop_all()
        clickhouse.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="load-held duration")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--outage", type=float, default=60.0, help="store-down seconds")
    parser.add_argument("--rate", type=float, default=3000.0, help="spans/s during the outage")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--between", type=float, default=8.0, help="seconds between kills")
    parser.add_argument("--overload", type=float, default=30.0, help="overload seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clew-soak-") as tmp:
        figures = run(args, Path(tmp))
    print("\n== soak figures ==")
    for figure in figures:
        print(figure.line())
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    sys.exit(1 if any(figure.lost for figure in figures) else 0)


if __name__ == "__main__":
    main()
