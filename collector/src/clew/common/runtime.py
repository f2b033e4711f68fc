"""Process-wide settings of the long-running servers: `clew serve`, `clew collect`, `clew ui`."""

from __future__ import annotations

import gc

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
