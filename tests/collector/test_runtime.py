"""The servers' process-wide settings (clew.common.runtime), each in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clew.common.runtime import YOUNG_THRESHOLD

PROBE = """
import gc
before = gc.get_threshold()
from clew.common.runtime import tune_gc
tune_gc()
after = gc.get_threshold()
print(before[0], after[0], after[1:] == before[1:], gc.get_freeze_count() > 0)
"""


def test_tune_gc_freezes_start_up_and_collects_the_young_generation_less_often() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["700", str(YOUNG_THRESHOLD), "True", "True"], out


RELEASE_PROBE = """
import mmap, os, sys
from pathlib import Path
from clew.common.runtime import release_start_up_pages

def resident_kib(path):
    # Pages of the file mapped by this process alone (madvise reclaims no page that another
    # process maps too, such as the test runner's own copy of a library).
    total, inside = 0, False
    for line in open("/proc/self/smaps"):
        if line[0] in "0123456789abcdef" and "-" in line.split()[0]:
            inside = line.rstrip().endswith(path)
        elif inside and line.startswith("Private_Clean:"):
            total += int(line.split()[1])
    return total

folder = Path(sys.argv[1])
maps = {}
for name in ("probe.so", "probe.bin"):  # a library's name, and a data file's
    path = folder / name
    with open(path, "wb") as file:  # 8 MiB, on disk: a page still to be written is not clean
        file.write(bytes(range(256)) * 4096 * 8)
        os.fsync(file.fileno())
    with open(path, "rb") as file:
        maps[name] = mmap.mmap(file.fileno(), 0, mmap.MAP_PRIVATE, mmap.PROT_READ)
    assert sum(maps[name][i + 1] for i in range(0, len(maps[name]), 4096)) > 0  # every page
before = [resident_kib(str(folder / name)) for name in maps]
released = release_start_up_pages()
after = [resident_kib(str(folder / name)) for name in maps]
print(*before, *after, released >> 10, maps["probe.so"][4097])
"""


def test_clean_library_pages_are_released_and_read_back_when_used(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", RELEASE_PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    library_before, data_before, library_after, data_after, released, byte = map(int, out)
    assert library_before == data_before == 8192, out  # 8 MiB each, resident before
    assert library_after < 1024, out  # the library's pages are given back
    assert data_after == data_before, out  # a data file's are not
    assert released >= library_before - library_after, out
    assert byte == 4097 % 256, out  # and the mapping reads the same afterwards


SMAPS = """\
7f0000000000-7f0000400000 r-xp 00000000 08:01 1 /lib/_chdb.abi3.so
Rss:                2048 kB
Private_Clean:      1536 kB
Anonymous:             0 kB
7f0000400000-7f0000500000 r--p 00400000 08:01 1 /lib/_chdb.abi3.so
Rss:                 512 kB
Anonymous:            64 kB
7f0000500000-7f0000600000 rw-p 00500000 08:01 1 /lib/_chdb.abi3.so
Rss:                 256 kB
Anonymous:             0 kB
7f0000600000-7f0000700000 r--p 00000000 08:01 2 /data/part/column.bin
Rss:                 128 kB
Anonymous:             0 kB
7f0000700000-7f0000800000 rw-p 00000000 00:00 0
Rss:                1024 kB
Anonymous:          1024 kB
7f0000800000-7f0000900000 r--p 00000000 08:01 3 /usr/lib/libpython3.11.so.1.0
Rss:                  16 kB
Private_Clean:        16 kB
Anonymous:             0 kB
"""


def test_only_clean_read_only_library_mappings_are_released() -> None:
    from clew.common.runtime import _clean_library_mappings

    assert _clean_library_mappings(SMAPS) == [
        (0x7F0000000000, 0x7F0000400000, 1536 * 1024),
        (0x7F0000800000, 0x7F0000900000, 16 * 1024),
    ]
