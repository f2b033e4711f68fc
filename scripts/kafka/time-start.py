"""Print how long scripts/kafka-broker takes to its ready line, and to stop on SIGTERM.

Usage: python3 scripts/kafka/time-start.py [kafka-broker options, e.g. --data-dir D]
A first run (empty jar cache) includes resolving the jars with mvn.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "kafka-broker"


def main() -> None:
    """Start, wait for the ready line, SIGTERM, and print both durations."""
    started = time.monotonic()
    broker = subprocess.Popen(
        [sys.executable, str(SCRIPT), *sys.argv[1:]], stdout=subprocess.PIPE, text=True
    )
    assert broker.stdout is not None
    line = broker.stdout.readline().strip()
    ready = time.monotonic()
    broker.send_signal(signal.SIGTERM)
    code = broker.wait()
    stopped = time.monotonic()
    print(f"{line!r}: ready after {ready - started:.2f} s, stopped after {stopped - ready:.2f} s")
    sys.exit(code)


if __name__ == "__main__":
    main()
