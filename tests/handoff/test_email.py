"""Email (issue 12) through a real local SMTP server (aiosmtpd) and the real service process
(SMTP_URL), in Chromium: an agent answers an offline message by email from the console; a visitor
asks for the transcript from the widget after the chat; without SMTP_URL the console says email is
not set up and the widget says it is not available. Agents' internal notes never go out by email.
"""

from __future__ import annotations

import asyncio
import email
import json
from email.message import Message
from types import SimpleNamespace
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator, List
from urllib.parse import quote

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from playwright.async_api import Page, expect

from tests.support.console import connector, console_service, log_in, shot
from tests.support.processes import free_port

QUESTION = "Please email me about order NS2650391, it has not arrived."
REPLY = "Your order NS2650391 was delivered to the neighbour at number 12."


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: List[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    async def wait(self, count: int, timeout: float = 15.0) -> List[Message]:
        for _ in range(int(timeout / 0.1)):
            if len(self.messages) >= count:
                return self.messages
            await asyncio.sleep(0.1)
        raise AssertionError(f"{len(self.messages)} message(s) arrived, expected {count}")


@pytest.fixture
def inbox() -> Iterator[SimpleNamespace]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SimpleNamespace(handler=handler, url=f"smtp://127.0.0.1:{port}?from=support@nimbus.test")
    finally:
        controller.stop()


@pytest.fixture
def mail_server(redis_url: str, tmp_path: Any, inbox: SimpleNamespace) -> Iterator[SimpleNamespace]:
    with console_service(
        "handoff-email", redis_url, tmp_path, (("asha", "bn,en"),), SMTP_URL=inbox.url
    ) as server:
        yield server


@pytest_asyncio.fixture
async def connect(mail_server: SimpleNamespace) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    make = connector(mail_server.base_url)
    yield make
    await make.close()


def text_of(message: Message) -> str:
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


@pytest.mark.asyncio
async def test_an_agent_answers_an_offline_message_by_email(
    mail_server: SimpleNamespace,
    inbox: SimpleNamespace,
    connect: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    visitor = await connect("visitor", {"language": "en"})
    await visitor.call("request_human", {})
    await visitor.wait_for("status", lambda s: s["state"] == "queued" and s["offline"])
    sent = await visitor.call(
        "offline_message", {"text": QUESTION, "contact": "rina@example.com", "client_id": "o-1"}
    )
    assert sent["ok"], sent

    await log_in(page, mail_server, "asha")
    await page.get_by_role("button", name="Offline messages").click()
    form = page.get_by_role("form", name="Reply by email to rina@example.com")
    await form.get_by_label("Reply by email to rina@example.com").fill(REPLY)
    await form.get_by_role("button", name="Send email").click()
    received = await inbox.handler.wait(1)
    assert received[0]["To"] == "rina@example.com" and received[0]["From"] == "support@nimbus.test"
    assert REPLY in text_of(received[0])
    item = page.locator(".nc-offline-item")
    await expect(item).to_contain_text("Replied by asha")
    await expect(item).to_contain_text("assigned to asha")
    await shot(page, "offline-email-reply")


@pytest.mark.asyncio
async def test_a_visitor_gets_the_transcript_by_email_without_agents_notes(
    mail_server: SimpleNamespace,
    inbox: SimpleNamespace,
    connect: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    options = {"prechat": "name,email", "title": "Nimbus Store help", "page": f"{mail_server.base_url}/demo/"}
    await page.goto(f"{mail_server.base_url}/widget/#{quote(json.dumps(options))}")
    prechat = page.locator("form.nw-prechat")
    await prechat.get_by_label("Name").fill("Rina")
    await prechat.get_by_label("Email").fill("rina@example.com")
    await prechat.get_by_role("button", name="Start chat").click()
    await page.get_by_label("Your message", exact=True).fill(QUESTION)
    await page.keyboard.press("Enter")
    await page.get_by_role("button", name="Talk to a person", exact=True).first.click()
    cid = json.loads(await page.evaluate("localStorage.getItem('nimbus-chat:v1')"))["conversationId"]
    asha = await connect("agent", "asha")
    await asha.wait_queued(cid)
    assert (await asha.claim(cid))["ok"]
    assert (await asha.call("add_note", {"conversation_id": cid, "text": "secret note", "client_id": "n-1"}))[
        "ok"
    ]
    await asha.reply(cid, REPLY)
    await expect(page.locator(".nw-msg--agent .nw-bubble")).to_have_text(REPLY)
    assert (await asha.call("close", {"conversation_id": cid, "resolution": "resolved"}))["ok"]
    await page.get_by_role("button", name="Email me the transcript").click()
    field = page.locator(".nw-transcript input")
    await expect(field).to_have_value("rina@example.com")  # from the pre-chat form
    await page.get_by_role("button", name="Send transcript").click()
    await expect(page.locator(".nw-transcript-box .nw-note")).to_have_text(
        "The transcript is on its way to rina@example.com."
    )
    received = await inbox.handler.wait(1)
    body = text_of(received[0])
    assert received[0]["To"] == "rina@example.com"
    assert QUESTION in body and REPLY in body and "Asha:" in body
    assert "secret note" not in body
    await shot(page, "widget-transcript-email")


@pytest.mark.asyncio
async def test_without_smtp_the_console_and_the_widget_say_email_is_not_set_up(
    handoff_server: SimpleNamespace,
    clients: Callable[..., Awaitable[Any]],
    page: Page,
) -> None:
    visitor = await clients("visitor", {"language": "en"})
    await visitor.call("request_human", {})
    await visitor.wait_for("status", lambda s: s["state"] == "queued" and s["offline"])
    await visitor.call(
        "offline_message", {"text": QUESTION, "contact": "rina@example.com", "client_id": "o-2"}
    )
    answer = await visitor.call("email_transcript", {"email": "rina@example.com"})
    assert answer["error"]["code"] == "unavailable", answer
    assert (await visitor.call("email_transcript", {"email": "not an address"}))["error"][
        "code"
    ] == "bad_request"
    await log_in(page, handoff_server, "asha")
    await page.get_by_role("button", name="Offline messages").click()
    await expect(page.locator(".nc-email-off")).to_have_text(
        "Email is not set up on this service (SMTP_URL): reply another way."
    )
