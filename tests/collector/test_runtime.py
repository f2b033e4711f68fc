"""The servers' garbage-collection settings (clew.common.runtime), in a process of their own."""

from __future__ import annotations

import subprocess
import sys

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
