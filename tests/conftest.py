"""Suite-wide test configuration.

A skipped test fails the run: a missing dependency (no Kafka jars, no chromium) must show up
as red, not hide as a yellow "s". Set CLEW_ALLOW_SKIPS=1 for a local run that tolerates skips.
Fixtures for the real parts live in tests/support/, one module per part.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

pytest_plugins = [
    "tests.support.ports",
    "tests.support.kafka",
    "tests.support.clew_server",
    "tests.support.clickhouse_http",
    "tests.support.browser",
]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and not os.environ.get("CLEW_ALLOW_SKIPS")
    ):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = (
            f"skipped tests fail this suite (set CLEW_ALLOW_SKIPS=1 locally): {reason}"
        )
