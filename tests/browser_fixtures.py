"""The Playwright fixtures of the browser tests (a plugin of tests/conftest.py): Debian's
Chromium once per test module, and the folder screenshots go to.

Without Chromium the tests that use ``browser`` are skipped, except under CI=true, where
they fail. Screenshots go to docs/ when CONSULAR_UPDATE_SCREENSHOTS=1, else to a
temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1")
DOCS = Path(__file__).resolve().parent.parent / "docs"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{message}; CI must run the browser tests")
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions: an answer, or a publish that re-indexes, can take
    # seconds on a busy CI machine.
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    return DOCS if os.environ.get("CONSULAR_UPDATE_SCREENSHOTS") == "1" else tmp_path


def new_page(browser, base: str, width: int, height: int):
    """A page in a fresh context (its own cookies) of that viewport, on server ``base``."""
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=base)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()
