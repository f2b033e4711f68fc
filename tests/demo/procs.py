"""Processes as /proc shows them, to check that nothing a test started is left running."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    pid: int
    state: str
    parent: int
    group: int

    @property
    def alive(self) -> bool:
        """Running or sleeping; a zombie has exited and waits only for its reaper."""
        return self.state != "Z"


def processes() -> list[Proc]:
    """Every process now."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces and parentheses: split after its last ")".
            state, parent, group = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
        except OSError:
            continue
        found.append(Proc(int(entry.name), state, int(parent), int(group)))
    return found


def tree(root: int) -> list[Proc]:
    """`root` and every process below it."""
    everything = processes()
    below, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p.pid for p in everything if p.parent == pid and p.pid not in below]
        below.update(children)
        frontier.extend(children)
    return [p for p in everything if p.pid in below]


def alive(pids: set[int], groups: set[int]) -> list[int]:
    """Which of `pids`, or of any process in `groups`, still live."""
    return sorted(p.pid for p in processes() if p.alive and (p.pid in pids or p.group in groups))


def gone(pids: set[int], groups: set[int], seconds: float = 10.0) -> list[int]:
    """alive(pids, groups) once it is empty or `seconds` have passed (SIGKILL is asynchronous)."""
    for _ in range(int(seconds * 10)):
        if not alive(pids, groups):
            break
        time.sleep(0.1)
    return alive(pids, groups)
