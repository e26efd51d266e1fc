"""Headless Chromium (Debian's) driven by Playwright against the live app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from adminapp.testing.live import serve

# Debian's chromium-headless-shell (`make chromium`), the headless-only
# build that Playwright itself runs headless, not the full browser: the
# browser tests took 133 s of CPU with it and 236 s with Debian's
# `chromium` (Chromium 156, tests/browser, -n 3, process accounting), 71 s
# of wall time against 122 s. The binary, not /usr/bin's shell wrapper, so
# that Playwright's process is Chromium's.
DEBIAN_HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")
CHROMIUM = (
    str(DEBIAN_HEADLESS_SHELL)
    if DEBIAN_HEADLESS_SHELL.is_file()
    else shutil.which("chromium-headless-shell") or str(DEBIAN_HEADLESS_SHELL)
)
# Without the background-networking flags Chromium keeps trying to reach
# Google on this machine's closed network. (Playwright adds --headless.)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_url(app):
    # localhost, not 127.0.0.1: passkeys refuse an IP address as the relying
    # party, and development's WEBAUTHN_RP_ID is localhost. (Chromium treats
    # http://localhost as a secure context and keeps its Secure cookies.)
    with serve(app) as url:
        yield url.replace("http://127.0.0.1:", "http://localhost:")


@pytest.fixture
def context(browser):
    context = browser.new_context()
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    # A script error on any page is a failure even if the test's checks passed.
    assert errors == []
