"""The agent console in a real browser, one set-up for every console test (tests/handoff,
tests/analytics, tests/widget): Debian's Chromium (`/usr/bin/chromium`, headless) driven by
Playwright against a real handoff service process on a real Redis. Nothing is mocked; Rasa and the
translator are not started unless a test's stack starts them (chats escalate with `request_human`).

Needs `make browser` (Chromium and the Noto fonts) and `make widget` (build/widget/console/): the
tests fail, never skip, without them.

- `console_service(name, redis_url, log_dir, agents=..., **env)`: a service process (context
  manager) with agents added ((username, languages[, role]), password PASSWORD, capacity 3); yields `SimpleNamespace(base_url, agent_username, agent_password)`.
  `env` adds settings (DATABASE_URL, SMTP_URL, ...).
- fixtures: `chromium` (the checks above), `page` (a 1400x900 page that fails the test if it opened
  a dialog or threw), `handoff_server` (console_service with asha (bn, en) and ravi (en)),
  `clients` (real Socket.IO visitors and agents on `handoff_server`, disconnected after).
- `connector(base_url)`: the `clients` factory for any service (its `close()` disconnects them).
- `log_in(page, server or base URL, username)`: the login form, until the console is online;
  `pane_of(page, cid)`, `shot(page, name)` (results/screenshots/console-<name>.png).

Test modules import the fixtures they use from here (a module-level import is how pytest finds
fixtures that are not in a conftest).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator, List, Sequence, Tuple, Union

import pytest
import pytest_asyncio
from playwright.async_api import Locator, Page, async_playwright, expect

from tests.support.handoff_service import PASSWORD, AgentClient, Visitor, add_agent, handoff_service
from tests.support.processes import REPO_ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
CONSOLE_INDEX = REPO_ROOT / "build" / "widget" / "console" / "index.html"
SCREENSHOTS = REPO_ROOT / "results" / "screenshots"
TIMEOUT = 15.0
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 780}
AGENTS: Sequence[Tuple[str, ...]] = (("asha", "bn,en"), ("ravi", "en"))  # (username, languages[, role])


def require_chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium and fonts-noto-core)")
    return CHROMIUM


@contextlib.contextmanager
def console_service(
    name: str, redis_url: str, log_dir: Path, agents: Sequence[Tuple[str, ...]] = AGENTS, **env: str
) -> Iterator[SimpleNamespace]:
    """One service process on `redis_url` (no Rasa, no translator: their URLs are closed ports)."""
    port = free_port()
    nowhere = f"http://127.0.0.1:{free_port()}"
    service = handoff_service(name, port, redis_url, nowhere, nowhere, log_dir, **env)
    for username, languages, *role in agents:
        add_agent(redis_url, username, languages, role[0] if role else "agent", 3, username.capitalize())
    service.start()
    try:
        yield SimpleNamespace(
            base_url=f"http://127.0.0.1:{port}",
            agent_username=agents[0][0] if agents else "",
            agent_password=PASSWORD,
        )
    finally:
        service.stop()


class connector:  # noqa: N801 (used like a function: connector(url)("visitor", auth))
    """`await make("visitor", auth)` (waits for its `session`) or `await make("agent", username)`."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opened: List[Any] = []

    async def __call__(self, kind: str, arg: Any = None) -> Any:
        if kind == "visitor":
            client = await Visitor(self.base_url).connect(arg or {})
            await client.wait_for("session")
        else:
            client = await AgentClient.logged_in(self.base_url, arg)
        self.opened.append(client)
        return client

    async def close(self) -> None:
        for client in self.opened:
            if client.sio.connected:
                await client.disconnect()


@pytest.fixture
def chromium() -> Path:
    require_chromium()
    if not CONSOLE_INDEX.exists():
        pytest.fail(f"{CONSOLE_INDEX} is missing: run `make widget` (builds the agent console)")
    return CHROMIUM


@pytest.fixture
def handoff_server(redis_url: str, tmp_path: Path) -> Iterator[SimpleNamespace]:
    """One service process on an empty Redis, with agents asha (bn, en) and ravi (en)."""
    with console_service("handoff-console", redis_url, tmp_path) as server:
        yield server


@pytest_asyncio.fixture
async def clients(handoff_server: SimpleNamespace) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """`await clients("visitor", auth)` or `await clients("agent", username)`; all disconnected after."""
    make = connector(handoff_server.base_url)
    yield make
    await make.close()


@pytest_asyncio.fixture
async def page(chromium: Path) -> AsyncIterator[Page]:
    """A headless Chromium page; fails the test if the page opened a dialog or threw."""
    dialogs: List[str] = []
    errors: List[str] = []

    async def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            page = await browser.new_page(viewport=DESKTOP, locale="en-GB")
            page.on("dialog", on_dialog)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.set_default_timeout(TIMEOUT * 1000)
            expect.set_options(timeout=TIMEOUT * 1000)
            yield page
        finally:
            await browser.close()
    assert dialogs == [], f"the page opened dialogs (did a message run script?): {dialogs}"
    assert errors == [], f"errors in the page: {errors}"


async def log_in(page: Page, server: Union[SimpleNamespace, str], username: str) -> None:
    """The console's login form (`server`: a console_service namespace or a base URL)."""
    base_url = server if isinstance(server, str) else server.base_url
    await page.goto(f"{base_url}/console/")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator(".nc-connection")).to_have_text("online")


def pane_of(page: Page, cid: str) -> Locator:
    return page.locator(f'.nc-pane[data-conversation-id="{cid}"]')


async def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)
