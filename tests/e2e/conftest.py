"""A real browser for the end-to-end tier: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        pytest.fail(
            "Debian's Chromium is needed for the browser tests: "
            "sudo apt-get install chromium chromium-driver (make test installs it as root)",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page in a phone-sized window whose owner reads Bahasa Indonesia."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="id-ID", is_mobile=True, has_touch=True
    )
    try:
        yield context.new_page()
    finally:
        context.close()
