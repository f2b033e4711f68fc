"""The suite's own rule: a skip is a failure unless CLEW_ALLOW_SKIPS is set."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def test_a_skipped_test_fails_the_run(tmp_path: Path) -> None:
    (tmp_path / "test_skip.py").write_text(
        "import pytest\n\ndef test_s():\n    pytest.skip('no broker')\n"
    )
    # The suite's own conftest, without its fixture plugins (they import the tests package).
    conftest = re.sub(
        r"pytest_plugins = \[.*?\]",
        "pytest_plugins: list[str] = []",
        Path(__file__).with_name("conftest.py").read_text(),
        count=1,
        flags=re.S,
    )
    assert "tests.support" not in conftest
    (tmp_path / "conftest.py").write_text(conftest)
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout
