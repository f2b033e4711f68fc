"""The pinned versions install without conflicts: `pip check` is clean."""

from __future__ import annotations

import shutil
import subprocess
import sys


def test_pip_check_is_clean() -> None:
    uv = shutil.which("uv")
    assert uv is not None, "uv runs the test suite; it must be on PATH"
    done = subprocess.run(
        [uv, "pip", "check", "--python", sys.executable],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All installed packages are compatible" in done.stdout + done.stderr
