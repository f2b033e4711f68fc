"""A Python traceback read into frames: the application's own first, library frames folded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>.+))?$')
LIBRARY_PARTS = ("site-packages", "dist-packages", "/lib/python", "<frozen ", "\\lib\\")


@dataclass(frozen=True)
class Frame:
    """One frame of a traceback; `library` when the file belongs to an installed package."""

    file: str
    line: int
    function: str
    code: str
    library: bool

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function,
                "code": self.code, "library": self.library}  # fmt: skip


def frames(stacktrace: str) -> list[Frame]:
    """The frames of a Python traceback, innermost (where it was raised) first."""
    found: list[Frame] = []
    lines = stacktrace.splitlines()
    for i, text in enumerate(lines):
        match = FRAME.match(text)
        if match is None:
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        # The source line is indented under its frame; the exception's own line is not.
        code = following.strip() if following.startswith(" ") and not FRAME.match(following) else ""
        path = match["file"]
        library = any(part in path for part in LIBRARY_PARTS)
        found.append(Frame(path, int(match["line"]), match["function"] or "", code, library))
    return found[::-1]


def app_first(stacktrace: str) -> list[Frame]:
    """The application's frames (innermost first), then the library's."""
    found = frames(stacktrace)
    return [f for f in found if not f.library] + [f for f in found if f.library]
