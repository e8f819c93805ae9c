"""Browser tests: Playwright's sync API drives Debian's Chromium against pytest-django's live server.

One Chromium per session, a fresh context (cookies, viewport, JavaScript on or off) per test. Playwright never
downloads a browser here: a missing /usr/bin/chromium fails the tests loudly (``make browser`` installs it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API marks its event loop as running in the main thread between calls, from the first browser
# test until the session ends; Django refuses ORM calls from such a thread unless told that this is fine. Set for
# the whole process on purpose: tests collected after the browser tests run while that loop still looks alive.
# Nothing here runs the ORM concurrently: the tests call it between browser actions.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_DEFINITION = REPO_ROOT / "survey" / "definitions" / "ausbildung-arbeit-2023.yaml"

# A small phone: the width every page must fit without scrolling sideways.
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, started once for the whole session."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium).", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser) -> Iterator[Callable[..., Any]]:
    """Open browser contexts (a phone with German preferences unless told otherwise); all closed afterwards."""
    contexts = []

    def open_context(**options: Any) -> Any:
        settings = {**PHONE, "locale": "de-DE", "timezone_id": "Europe/Berlin", **options}
        context = browser.new_context(**settings)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def phone(new_context) -> Any:
    """A page in a fresh phone-sized context (360 × 740, touch), JavaScript on."""
    return new_context().new_page()


@pytest.fixture
def demo(transactional_db, live_server, settings) -> Any:
    """The demo organisation and the open campaign ``demo`` (12 steps, branching on ``status``)."""
    from survey.demo import seed_demo

    # The demo logins get passwords; the real hasher would spend seconds on them in every test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return seed_demo(definition_path=DEMO_DEFINITION)


@pytest.fixture
def demo_url(demo, live_server) -> str:
    """The start page of the demo campaign on the live server."""
    return f"{live_server.url}/s/{demo.campaign.slug}/"
