"""What a stopped `clew serve` data folder holds, read through chDB in a process of its own
(one chDB data folder per process): active parts, merged-away parts, the spool.

    uv run python bench/peers_disk.py DATA_DIR    # prints one JSON object
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clew.collector.store import ChdbStore
from peers_load import disk_bytes

PARTS = """
SELECT active, sum(bytes_on_disk), groupArrayIf(path, active) FROM system.parts
WHERE database = currentDatabase() GROUP BY active
"""


def parts(data: Path) -> dict[str, int]:
    """Bytes in active parts and in merged-away (inactive) parts, all tables; and the disk
    blocks the active parts' folders take (many small files each round up to a block)."""
    store = ChdbStore(data)
    try:
        rows = store.query(PARTS).rows
    finally:
        store.close()
    sizes = {bool(active): int(size) for active, size, _ in rows}
    paths = [Path(path) for active, _, found in rows if active for path in found]
    blocks = sum(disk_bytes(path) for path in paths)
    return {"active": sizes.get(True, 0), "inactive": sizes.get(False, 0), "active_blocks": blocks}


if __name__ == "__main__":
    print(json.dumps(parts(Path(sys.argv[1]))))
