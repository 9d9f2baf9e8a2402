"""Fixtures for the visitor widget in a real browser: the real stack, nothing mocked.

`stack` (module): an embedded redis-server, the translator (with tiny real bn<->en models, so
agents' replies are machine-translated for real), the action server, the Rasa server with the
trained model and one handoff service process serving the built widget (/widget/) and its demo
host page (/demo/). Agents: asha (bn, en), meera (ml, en), ravi (en). The pattern is the one of
tests/handoff/test_service.py.

`browser` (per test): Debian's Chromium (`/usr/bin/chromium`, headless) driven by Playwright, as for
the console (tests/support/console.py); the tests fail, never skip, without it or without the built
widget (`make browser`, `make widget`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

from tests.support.console import require_chromium
from tests.support.handoff_service import running_stack
from tests.support.processes import MODEL

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD = REPO_ROOT / "build" / "widget"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train`")
    for built in (
        BUILD / "widget" / "index.html",
        BUILD / "widget" / "loader.js",
        BUILD / "demo" / "index.html",
    ):
        if not built.exists():
            pytest.fail(f"{built} is missing: run `make widget`")
    logs = tmp_path_factory.mktemp("widget-stack")
    settings = {"HANDOFF_ROUTE_ALL_AFTER": "1", "HANDOFF_AGENT_GRACE": "1"}
    agents = [("asha", "bn,en", 5), ("meera", "ml,en", 5), ("ravi", "en", 5)]
    with running_stack(logs, ("handoff",), agents, **settings) as stack:
        yield {**stack, "url": stack["handoff"]}


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = require_chromium()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            yield browser
        finally:
            await browser.close()
