"""Process-wide settings of the long-running servers: `clew serve`, `clew collect`, `clew ui`."""

from __future__ import annotations

import ctypes
import gc
import re
from pathlib import Path

# Allocations between two young-generation collections (CPython's default is 700). A trace of a
# thousand spans makes tens of thousands of objects, nearly all without cycles: at 700, reading
# it ran the collector dozens of times, a sixth of a trace read's time (bench/query.py).
YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """Collect cyclic garbage less often, and never walk what start-up made again.

    Called once a server has loaded its code and settings, just before it serves: `gc.freeze`
    moves every object alive then (modules, settings, the app) out of the collector's view, so
    its full collections only walk what requests made since. Memory held by cycles is freed
    later than by default, not leaked.
    """
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


# madvise(2) advice that reclaims the given pages now (Linux 5.4 and later).
_MADV_PAGEOUT = 21
_MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s+(.*)$")


def release_start_up_pages(maps: str = "/proc/self/smaps") -> int:
    """Give back the pages of shared libraries that start-up read and serving may never touch;
    the bytes released.

    chDB's library is a 555 MB file. Loading it and applying the schema touch 200 MB of its
    code and read-only data, once (the registration of every function and format, the DDL);
    the kernel keeps them mapped, and they count in the server's RSS until memory runs short
    (docs/adr/0007, session 10). Only clean pages read from a library file are released: no
    anonymous page (a relocated one, the heap) and nothing writable. A page needed again is
    read back from the file on its next use: the first requests after start-up pay for it
    (the UI's first page took 0.44 s instead of 0.26 s here; the next ones the same as before).
    Does nothing where /proc/self/smaps or madvise is missing (not Linux, or before 5.4).
    """
    try:
        text = Path(maps).read_text(encoding="utf-8")
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    released = 0
    for start, end, resident in _clean_library_mappings(text):
        if madvise(start, end - start, _MADV_PAGEOUT) == 0:
            released += resident
    return released


def _clean_library_mappings(smaps: str) -> list[tuple[int, int, int]]:
    """(start, end, bytes this process alone maps) of each read-only mapping of a `.so` file
    without anonymous pages, from the text of /proc/self/smaps. madvise reclaims no page that
    another process maps too, so only those are counted."""
    found: list[tuple[int, int, int]] = []
    current: list[int] | None = None
    fields: dict[str, int] = {}

    def close() -> None:
        if current is not None and fields.get("Anonymous", 1) == 0:
            found.append((current[0], current[1], fields.get("Private_Clean", 0) * 1024))

    for line in smaps.splitlines():
        if mapping := _MAPPING.match(line):
            close()
            start, end, perms, path = mapping.groups()
            library = ".so" in path.rsplit("/", 1)[-1] and "w" not in perms
            current = [int(start, 16), int(end, 16)] if library else None
            fields = {}
        elif current is not None and line.endswith(" kB"):
            name, _, value = line.partition(":")
            fields[name] = int(value.split()[0])
    close()
    return found
