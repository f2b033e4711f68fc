"""Real headless Chromium (Debian's package) through Playwright, for the browser tests.

Playwright's own browser download cannot run here, so it drives /usr/bin/chromium.
Fixture `browser`: one Chromium per test module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots the browser tests keep (CI uploads the folder).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed on the way out."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the test module."""
    with chromium() as launched:
        yield launched


@contextmanager
def guarded_page(browser: Browser, **context_options: object) -> Iterator[Page]:
    """A page in a fresh context that fails the test if any script opens a dialog.

    The XSS checks store `alert(...)` payloads: a dialog means a stored string ran as script.
    """
    context = browser.new_context(**context_options)  # type: ignore[arg-type]
    tab = context.new_page()
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", refuse)
    yield tab
    context.close()
    assert dialogs == [], f"a stored string ran as script: {dialogs}"


def screenshot(page: Page, name: str) -> None:
    """Keep a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
