"""The visitor chat widget end to end, in Debian's Chromium (headless, Playwright), on the real stack.

The demo host page (/demo/) carries the one-script snippet; the loader puts the launcher and the
chat iframe (/widget/) on it. Visitors are real browser contexts; agents are real Socket.IO clients
(tests/support/handoff_service.py AgentClient) on the same service. The bot is the real Rasa model;
questions are training phrasings from data/ (bot.content). Screenshots go to
results/screenshots/widget-*.png.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, BrowserContext, FrameLocator, Page, expect

from bot.content import load_content
from tests.support.console import DESKTOP as CONSOLE_DESKTOP
from tests.support.console import log_in, pane_of
from tests.support.handoff_service import AgentClient

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "results" / "screenshots"
CONTENT = load_content()
TITLE = "Nimbus Store help"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 780}
TIMEOUT = 20.0
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script><b>bold?</b>'
REPLY = "Hi, I am Ravi. I can see your refund; it was sent today."
TYPED_OFFLINE = "I am back online, did you get this?"

expect.set_options(timeout=TIMEOUT * 1000)


def example(intent: str, lang: str, index: int = 0) -> str:
    return CONTENT.intents[intent].languages[lang].examples[index]


def answer_start(intent: str, lang: str, chars: int = 30) -> str:
    """The beginning of the authored answer (whitespace as the browser reports it)."""
    return " ".join(CONTENT.intents[intent].languages[lang].answer.split())[:chars]


async def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"widget-{name}.png"))


class Visit:
    """One visitor: a browser context on the demo page, with the chat iframe's locators."""

    def __init__(self, context: BrowserContext, page: Page, base_url: str) -> None:
        self.context, self.page, self.base_url = context, page, base_url
        self.errors: List[str] = []
        self.dialogs: List[str] = []
        self.chat: FrameLocator = page.frame_locator(f'iframe[title="{TITLE}"]')
        self.launcher = page.get_by_role("button", name=re.compile(TITLE))

    @classmethod
    async def start(
        cls,
        browser: Browser,
        base_url: str,
        viewport: Dict[str, int] = DESKTOP,
        locale: str = "en-GB",
        reduced_motion: Any = "no-preference",
        host_page: Optional[str] = None,  # a URL on another origin than the service
    ) -> Visit:
        context = await browser.new_context(viewport=viewport, locale=locale, reduced_motion=reduced_motion)
        context.set_default_timeout(TIMEOUT * 1000)
        page = await context.new_page()
        visit = cls(context, page, base_url)

        async def on_dialog(dialog: Any) -> None:
            visit.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: visit.errors.append(str(error)))
        if host_page is not None:
            await page.goto(host_page)
        else:
            await page.goto(f"{base_url}/demo/")
        return visit

    @property
    def frame(self) -> Any:
        return next(f for f in self.page.frames if "/widget/" in f.url)

    def input(self) -> Any:
        return self.chat.locator("textarea.nw-input")

    async def open(self) -> None:
        await self.launcher.click()
        await expect(self.page.locator(f'iframe[title="{TITLE}"]')).to_be_visible()
        await expect(self.input()).to_be_focused()

    async def say(self, text: str) -> None:
        await self.input().fill(text)
        await self.input().press("Enter")
        await expect(
            self.chat.locator(".nw-msg--visitor:not(.nw-msg--pending) .nw-bubble").last
        ).to_have_text(text if not text.startswith("/") else re.compile(".+"))

    def bot_bubbles(self) -> Any:
        return self.chat.locator(".nw-msg--bot:not(.nw-msg--greeting) .nw-bubble")

    async def saved(self) -> Dict[str, Any]:
        raw = await self.frame.evaluate("localStorage.getItem('nimbus-chat:v1')")
        return json.loads(raw)

    async def message_ids(self) -> List[str]:
        return await self.chat.locator(".nw-msg[data-id]").evaluate_all(
            "nodes => nodes.map(n => n.dataset.id)"
        )

    async def close(self) -> None:
        await self.context.close()
        assert self.dialogs == [], f"a dialog opened (did server text run as HTML?): {self.dialogs}"
        assert self.errors == [], f"errors in the page: {self.errors}"


async def agent_for(base_url: str, username: str) -> AgentClient:
    return await AgentClient.logged_in(base_url, username)


async def claim(agent: AgentClient, cid: str) -> Dict[str, Any]:
    await agent.wait_queued(cid)
    ack = await agent.claim(cid)
    assert ack["ok"], ack
    return ack["conversation"]


async def accessibility_problems(visit: Visit) -> List[str]:
    """A small axe-style check of the chat document: every control is named, live regions exist."""
    return await visit.frame.evaluate(
        """() => {
        const problems = [];
        const named = (el) => {
          if ((el.getAttribute('aria-label') || '').trim()) return true;
          if (el.labels && [...el.labels].some((l) => l.textContent.trim())) return true;
          const by = el.getAttribute('aria-labelledby');
          if (by && by.split(' ').some((id) => (document.getElementById(id)?.textContent || '').trim())) return true;
          return el.tagName === 'BUTTON' && el.textContent.trim() !== '';
        };
        for (const el of document.querySelectorAll('button, input, textarea, select')) {
          if (el.closest('[hidden]')) continue;
          if (!named(el)) problems.push('unnamed ' + el.outerHTML.slice(0, 80));
        }
        const log = document.querySelector('[role=log]');
        if (!log || !log.getAttribute('aria-live') || !log.getAttribute('aria-label')) problems.push('no labelled log');
        if (!document.querySelector('[role=status][aria-live]')) problems.push('no status live region');
        if (!document.documentElement.lang) problems.push('no document language');
        if (!document.querySelector('h1')) problems.push('no heading');
        return problems;
      }"""
    )


# --- the main path, in English -------------------------------------------------------------


async def test_english_bot_agent_reload_network_loss_and_rating(
    stack: Dict[str, Any], browser: Browser
) -> None:
    base = stack["url"]
    visit = await Visit.start(browser, base)
    page, chat = visit.page, visit.chat
    agent = None
    try:
        # Isolation: one host element, one global, the host's own CSS untouched.
        assert await page.evaluate("typeof window.NimbusChat.open") == "function"
        assert await page.locator("[data-nimbus-chat]").count() == 1
        assert await page.evaluate("document.querySelectorAll('style, link[rel=stylesheet]').length") == 1
        await expect(visit.launcher).to_have_attribute("aria-expanded", "false")
        # The host page styles every button hot pink with a dashed red border: not the launcher.
        launcher_style = await visit.launcher.evaluate(
            "n => [getComputedStyle(n).backgroundColor, getComputedStyle(n).borderStyle]"
        )
        assert launcher_style == ["rgb(29, 59, 47)", "none"], launcher_style
        await shot(page, "desktop-closed")

        # Keyboard: focus the launcher, Enter opens, focus moves into the message field.
        await visit.launcher.focus()
        await page.keyboard.press("Enter")
        await expect(visit.input()).to_be_focused()
        await expect(visit.launcher).to_have_attribute("aria-expanded", "true")
        await expect(chat.locator(".nw-msg--greeting")).to_contain_text("Ask about orders")
        assert await accessibility_problems(visit) == []

        # A question the bot answers; the yes/no quick replies follow.
        await visit.say(example("refund_status", "en"))
        await expect(visit.bot_bubbles().filter(has_text=answer_start("refund_status", "en"))).to_have_count(
            1
        )
        chips = chat.locator(".nw-quick .nw-chip")
        await expect(chips.first).to_be_visible()
        await shot(page, "desktop-bot-answer")
        titles = await chips.all_inner_texts()
        assert len(titles) >= 2, titles
        await chips.first.click()  # sends the payload; shows the title
        await expect(chat.locator(".nw-msg--visitor .nw-bubble").last).to_have_text(titles[0])

        # Ask for a person: queued, position and wait shown.
        await visit.say(example("request_human", "en"))
        status = chat.locator(".nw-status")
        await expect(status).to_contain_text("Waiting for a person")
        cid = (await visit.saved())["conversationId"]
        assert cid

        # An agent claims and replies (a hostile text among them); the visitor sees the name.
        await expect(chat.locator("form.nw-offline")).to_be_visible()  # no agent online yet
        agent = await agent_for(base, "ravi")
        # An agent came online: the offline form goes, the wait is estimated (120 s x position 1 / 1 agent).
        await expect(status).to_have_text(
            "Waiting for a person. You are number 1 in the queue. Estimated wait: 2 min."
        )
        await expect(chat.locator("form.nw-offline")).to_have_count(0)
        await shot(page, "desktop-queued")
        packet = await claim(agent, cid)
        # The loader passed the host page's URL and the browser's locale (shown to the agent).
        assert packet["visitor"]["page"] == f"{base}/demo/", packet["visitor"]
        assert packet["visitor"]["locale"] == "en-GB", packet["visitor"]
        await expect(status).to_have_text("You are chatting with Ravi.")
        await agent.emit("typing", {"conversation_id": cid, "typing": True})
        await expect(chat.locator(".nw-typing")).to_contain_text("Ravi is typing")
        await agent.reply(cid, REPLY)
        await agent.reply(cid, HOSTILE)
        agent_bubbles = chat.locator(".nw-msg--agent .nw-bubble")
        await expect(agent_bubbles).to_have_text([REPLY, HOSTILE])
        await expect(chat.locator(".nw-msg--agent .nw-sender").first).to_have_text("Ravi")
        assert await chat.locator(".nw-messages img, .nw-messages script, .nw-messages b").count() == 0
        await shot(page, "desktop-agent")

        # Reload mid-chat: the panel comes back open with the same history, nothing twice.
        before = await visit.message_ids()
        assert len(before) == len(set(before))
        await page.reload()
        await expect(agent_bubbles).to_have_text([REPLY, HOSTILE])
        after = await visit.message_ids()
        assert after == before
        await expect(status).to_have_text("You are chatting with Ravi.")
        # Navigation within the site: the next page shows the same conversation.
        await page.get_by_role("link", name="My orders").click()
        await page.wait_for_url("**/demo/?page=orders")
        await expect(agent_bubbles).to_have_text([REPLY, HOSTILE])
        assert await visit.message_ids() == before

        # Network loss: the message waits, then goes exactly once when the network is back.
        await visit.context.set_offline(True)
        await expect(chat.locator(".nw-connection")).to_contain_text("You are offline")
        await visit.input().fill(TYPED_OFFLINE)
        await visit.input().press("Enter")
        pending = chat.locator(".nw-msg--pending")
        await expect(pending).to_contain_text("Waiting to send")
        await visit.context.set_offline(False)
        await expect(pending).to_have_count(0)
        await expect(chat.locator(".nw-connection")).to_be_hidden()
        await agent.wait_for("message", lambda m: m["text"] == TYPED_OFFLINE)
        await agent.reply(cid, "Yes, got it.")
        await expect(agent_bubbles.last).to_have_text("Yes, got it.")
        await asyncio.sleep(1)
        assert [m["text"] for m in agent.received("message")].count(TYPED_OFFLINE) == 1
        await expect(
            chat.locator(".nw-msg--visitor .nw-bubble").filter(has_text=TYPED_OFFLINE)
        ).to_have_count(1)
        ids = await visit.message_ids()
        assert len(ids) == len(set(ids))

        # The agent closes; the visitor rates 4/5, "solved: yes", with a comment.
        ack = await agent.call("close", {"conversation_id": cid, "resolution": "resolved"})
        assert ack["ok"], ack
        await expect(status).to_have_text("The conversation has ended.")
        rating = chat.locator("form.nw-rating")
        await expect(rating).to_be_visible()
        await rating.get_by_role("button", name="Send rating").click()
        await expect(rating.locator(".nw-form-error")).to_have_text("Please choose a rating from 1 to 5.")
        await rating.get_by_label("4 of 5").check(force=True)
        await rating.get_by_label("Yes").check(force=True)
        await rating.get_by_label("Comment (optional)").fill("Quick and kind <3")
        await shot(page, "desktop-rating")
        await rating.get_by_role("button", name="Send rating").click()
        await expect(chat.locator(".nw-extra .nw-note")).to_contain_text("Thank you for your feedback")
        packet = (await agent.call("open", {"conversation_id": cid}))["conversation"]
        assert packet["rating"]["score"] == 4 and packet["rating"]["resolved"] is True, packet["rating"]
        assert packet["rating"]["comment"] == "Quick and kind <3"

        # Escape closes the panel and gives the focus back to the launcher.
        await visit.input().press("Escape")
        await expect(visit.launcher).to_be_focused()
        await expect(visit.launcher).to_have_attribute("aria-expanded", "false")
        await expect(page.locator(f'iframe[title="{TITLE}"]')).to_be_hidden()
    finally:
        if agent is not None:
            await agent.disconnect()
        await visit.close()


# --- Bengali on a phone, Malayalam by detection, the language picker ----------------------


async def test_bengali_on_a_phone_with_an_agent(stack: Dict[str, Any], browser: Browser) -> None:
    base = stack["url"]
    visit = await Visit.start(browser, base, viewport=PHONE, locale="bn-BD", reduced_motion="reduce")
    page, chat = visit.page, visit.chat
    agent = None
    try:
        await visit.open()
        # The browser's language is the first guess: the UI is in Bengali before anyone writes.
        await expect(visit.input()).to_have_attribute("placeholder", "বার্তা লিখুন…")
        await expect(chat.locator("h1")).to_have_text(TITLE)
        assert await visit.frame.evaluate("document.documentElement.lang") == "bn"
        # Full screen on a phone: the iframe covers the viewport; the launcher is out of the way.
        box = await page.locator(f'iframe[title="{TITLE}"]').bounding_box()
        assert box == {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}, box
        await expect(visit.launcher).to_be_hidden()

        await visit.say(example("refund_status", "bn"))
        answer = visit.bot_bubbles().filter(has_text=answer_start("refund_status", "bn"))
        await expect(answer).to_have_count(1)
        await expect(answer).to_have_attribute("lang", "bn")
        fonts = await visit.frame.evaluate(
            "() => getComputedStyle(document.querySelector('.nw-msg--bot .nw-bubble[lang=bn]')).fontFamily"
        )
        assert fonts.startswith('"Noto Sans Bengali"'), fonts
        await expect(chat.locator(".nw-quick .nw-chip").first).to_be_visible()
        # prefers-reduced-motion: no animation on new messages.
        assert await answer.evaluate("n => getComputedStyle(n.parentElement).animationName") == "none"
        await shot(page, "phone-bn-answer")

        await visit.say(example("request_human", "bn"))
        await expect(chat.locator(".nw-status")).to_contain_text("একজন মানুষের জন্য অপেক্ষা করছেন")
        cid = (await visit.saved())["conversationId"]
        agent = await agent_for(base, "asha")
        await claim(agent, cid)
        await expect(chat.locator(".nw-status")).to_have_text("আপনি Asha-এর সাথে চ্যাট করছেন।")
        await agent.reply(cid, "নমস্কার, আমি আশা। আপনার রিফান্ড আজই পাঠানো হয়েছে।")
        await expect(chat.locator(".nw-msg--agent .nw-bubble")).to_have_text(
            "নমস্কার, আমি আশা। আপনার রিফান্ড আজই পাঠানো হয়েছে।"
        )
        await shot(page, "phone-bn-agent")
        assert await accessibility_problems(visit) == []
        # Full screen: Tab from the last control (Send, under "End chat") wraps to the first.
        await chat.get_by_role("button", name="পাঠান").focus()
        await page.keyboard.press("Tab")
        await expect(chat.get_by_role("combobox", name="ভাষা")).to_be_focused()
        # The close button (named in Bengali) closes the full-screen panel; focus returns to the launcher.
        await chat.get_by_role("button", name="চ্যাট বন্ধ করুন").click()
        await expect(visit.launcher).to_be_focused()
        # A reply while the panel is closed: the launcher counts it (in its accessible name too).
        await agent.reply(cid, "আর কিছু জানতে চান?")
        await expect(visit.launcher).to_have_attribute("aria-label", f"{TITLE} (1)")
        await shot(page, "phone-closed-unread")
        await visit.launcher.click()
        await expect(chat.locator(".nw-msg--agent .nw-bubble").last).to_have_text("আর কিছু জানতে চান?")
        await expect(visit.launcher).to_be_hidden()
    finally:
        if agent is not None:
            await agent.disconnect()
        await visit.close()


async def test_malayalam_switches_the_ui_and_the_picker_sets_the_language(
    stack: Dict[str, Any], browser: Browser
) -> None:
    visit = await Visit.start(browser, stack["url"], locale="en-US")
    page, chat = visit.page, visit.chat
    try:
        await visit.open()
        await expect(visit.input()).to_have_attribute("placeholder", "Type your message…")
        # A Malayalam question: the answer is in Malayalam, and the UI follows the conversation.
        await visit.say(example("order_status", "ml"))
        answer = visit.bot_bubbles().filter(has_text=answer_start("order_status", "ml"))
        await expect(answer).to_have_count(1)
        await expect(answer).to_have_attribute("lang", "ml")
        await expect(visit.input()).to_have_attribute("placeholder", "സന്ദേശം എഴുതുക…")
        await expect(chat.locator(".nw-status")).to_have_text("നിങ്ങൾ ഞങ്ങളുടെ സഹായിയുമായി ചാറ്റ് ചെയ്യുന്നു.")
        await shot(page, "desktop-ml-answer")

        # The picker: English UI at once, and the server is told (`set_language`): the next answer,
        # to a Malayalam question, comes in English.
        await chat.get_by_role("combobox", name="ഭാഷ").select_option("en")
        await expect(visit.input()).to_have_attribute("placeholder", "Type your message…")
        await expect(chat.locator(".nw-msg--visitor .nw-sender").first).to_have_text("You")
        count = await visit.bot_bubbles().count()
        await visit.say(example("delivery_time", "ml"))
        await expect(visit.bot_bubbles()).not_to_have_count(count)
        await expect(visit.bot_bubbles().nth(count)).to_have_attribute("lang", "en")
        await expect(visit.input()).to_have_attribute("placeholder", "Type your message…")
        assert (await visit.saved())["language"] == "en"
    finally:
        await visit.close()


# --- machine translation notice, offline form -----------------------------------------------


async def test_translated_agent_reply_shows_a_notice_and_the_original(
    stack: Dict[str, Any], browser: Browser
) -> None:
    base = stack["url"]
    visit = await Visit.start(browser, base, locale="bn-BD")
    chat = visit.chat
    agent = None
    try:
        await visit.open()
        await visit.say(example("request_human", "bn"))
        await expect(chat.locator(".nw-status")).to_contain_text("একজন মানুষের জন্য অপেক্ষা করছেন")
        cid = (await visit.saved())["conversationId"]
        agent = await agent_for(base, "ravi")  # English only: the service translates both ways
        await claim(agent, cid)
        await agent.reply(cid, "Your refund was sent today.")
        notice = chat.locator(".nw-msg--agent .nw-mt")
        await expect(notice).to_contain_text("স্বয়ংক্রিয়ভাবে অনূদিত।")
        toggle = notice.get_by_role("button", name="মূল লেখা দেখুন")
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await toggle.click()
        await expect(notice.locator(".nw-original")).to_be_visible()
        await expect(notice.locator(".nw-original-text")).to_have_text("Your refund was sent today.")
        await expect(notice.locator(".nw-original")).to_have_attribute("lang", "en")
        await shot(visit.page, "desktop-bn-translated")
        # The visitor ends the chat; the rating form appears in Bengali.
        await chat.get_by_role("button", name="চ্যাট শেষ করুন").click()
        await chat.get_by_role("button", name="হ্যাঁ, শেষ করুন").click()  # asked first
        await expect(chat.locator("form.nw-rating")).to_contain_text("চ্যাটটি কেমন ছিল?")
    finally:
        if agent is not None:
            await agent.disconnect()
        await visit.close()


async def test_prechat_fields_then_offline_form_when_no_agent_is_online(
    stack: Dict[str, Any], browser: Browser
) -> None:
    """The chat app on its own page (as the iframe, without the loader), with pre-chat fields."""
    base = stack["url"]
    await asyncio.sleep(1.5)  # HANDOFF_AGENT_GRACE=1: the agents of earlier tests are gone
    context = await browser.new_context(viewport={"width": 400, "height": 700}, locale="en-GB")
    context.set_default_timeout(TIMEOUT * 1000)
    page = await context.new_page()
    errors: List[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    admin = None
    try:
        options = {"prechat": "name,email", "title": TITLE, "page": f"{base}/demo/"}
        await page.goto(f"{base}/widget/#{quote(json.dumps(options))}")
        prechat = page.locator("form.nw-prechat")
        await expect(prechat.get_by_label("Name")).to_be_focused()
        await expect(page.locator("form.nw-composer")).to_be_hidden()
        await prechat.get_by_role("button", name="Start chat").click()
        await expect(prechat.locator(".nw-form-error")).to_have_text("Please fill in Name.")
        await prechat.get_by_label("Name").fill("Rahim")
        await prechat.get_by_label("Email").fill("rahim@example.com")
        await prechat.get_by_role("button", name="Start chat").click()
        await expect(page.get_by_label("Your message", exact=True)).to_be_focused()

        await page.get_by_label("Your message", exact=True).fill(example("greet", "en"))
        await page.keyboard.press("Enter")
        await expect(page.locator(".nw-msg--bot .nw-bubble").first).to_be_visible()
        human = page.get_by_role("button", name="Talk to a person", exact=True)
        await human.click()
        form = page.locator("form.nw-offline")
        await expect(form.get_by_label("Your message")).to_be_focused()
        await expect(form.get_by_label("Email or phone")).to_have_value("rahim@example.com")
        await form.get_by_role("button", name="Send message").click()
        await expect(form.locator(".nw-form-error")).to_have_text("Please fill in Your message.")
        await form.get_by_label("Your message").fill("Please call me about order NS2650391.")
        await shot(page, "offline-form")
        await form.get_by_role("button", name="Send message").click()
        await expect(page.locator(".nw-extra .nw-note")).to_have_text("Thank you. We will contact you soon.")
        await expect(page.locator(".nw-status")).to_have_text("The conversation has ended.")
        admin = await agent_for(base, "ravi")
        items = (await admin.call("offline_messages"))["items"]
        assert items[0]["offline"]["contact"] == "rahim@example.com", items[0]["offline"]
        assert errors == [], errors
    finally:
        if admin is not None:
            await admin.disconnect()
        await context.close()


@pytest.fixture
def shop_site(stack: Dict[str, Any]) -> Iterator[str]:
    """Another web site (its own HTTP server and port, so another origin) whose page has the snippet."""
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head><body>
      <h1>Another shop</h1><a href="#top">Top</a>
      <script src="{stack["url"]}/widget/loader.js" data-title="{TITLE}" data-color="#7a1f5f"
              data-position="left" data-lang="ml"></script></body></html>""".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/products"
    finally:
        server.shutdown()
        server.server_close()


async def test_embedded_in_a_site_on_another_origin(
    stack: Dict[str, Any], browser: Browser, shop_site: str
) -> None:
    """A host page on another origin with the snippet pointing at the service: options,
    postMessage (origin-checked both ways) and focus still work."""
    base = stack["url"]
    visit = await Visit.start(browser, base, locale="fr-FR", host_page=shop_site)
    page, chat = visit.page, visit.chat
    try:
        frame_src = await page.locator(f'iframe[title="{TITLE}"]').get_attribute("src")
        assert frame_src.startswith(f"{base}/widget/#"), frame_src
        box = await visit.launcher.bounding_box()
        assert box["x"] < 100, box  # data-position="left"
        await visit.open()
        # No supported browser language (fr): the site's default (ml) is used.
        await expect(visit.input()).to_have_attribute("placeholder", "സന്ദേശം എഴുതുക…")
        header = await chat.locator(".nw-header").evaluate("n => getComputedStyle(n).backgroundColor")
        assert header == "rgb(122, 31, 95)", header
        await visit.say(example("payment_methods", "en"))
        await expect(
            visit.bot_bubbles().filter(has_text=answer_start("payment_methods", "en"))
        ).to_have_count(1)
        saved = await visit.saved()
        assert saved["token"] and saved["conversationId"]
        await visit.input().press("Escape")
        await expect(visit.launcher).to_be_focused()
        await expect(visit.launcher).to_have_attribute("aria-expanded", "false")
        await shot(page, "cross-origin-closed")
    finally:
        await visit.close()


# --- both sides in the browser: visitor in the widget, agent in the console ----------------


async def test_agent_in_the_console_answers_a_visitor_in_the_widget(
    stack: Dict[str, Any], browser: Browser
) -> None:
    """The issue's scenario end to end with two browser contexts: a Malayalam visitor on the demo
    page asks for a person; Meera logs into the console, reads the chat, claims it and replies; the
    visitor sees her name and reply; Meera closes it; the visitor rates it."""
    base = stack["url"]
    visit = await Visit.start(browser, base)
    console_context = await browser.new_context(viewport=CONSOLE_DESKTOP, locale="en-GB")
    console_context.set_default_timeout(TIMEOUT * 1000)
    console = await console_context.new_page()
    try:
        chat = visit.chat
        await visit.open()
        await visit.say(example("order_status", "ml"))
        await expect(visit.bot_bubbles().filter(has_text=answer_start("order_status", "ml"))).to_have_count(1)
        await visit.say(example("request_human", "ml"))
        cid = (await visit.saved())["conversationId"]

        await log_in(console, base, "meera")
        entry = console.locator(f'.nc-queue-item[data-conversation-id="{cid}"]')
        await expect(entry.locator(".nc-badge")).to_have_text("ml")
        await entry.get_by_role("button", name="History").click()
        await expect(entry.get_by_role("list", name="History")).to_contain_text(example("order_status", "ml"))
        await entry.get_by_role("button", name="Claim").click()
        pane = pane_of(console, cid)
        await expect(pane).to_contain_text(example("request_human", "ml"))

        await expect(chat.locator(".nw-status")).to_contain_text("Meera")
        composer = pane.get_by_label("Reply to the visitor")
        await composer.fill("നമസ്കാരം, ഞാൻ മീര. നിങ്ങളുടെ ഓർഡർ നാളെ എത്തും.")
        await composer.press("Enter")
        await expect(chat.locator(".nw-msg--agent .nw-bubble")).to_have_text(
            "നമസ്കാരം, ഞാൻ മീര. നിങ്ങളുടെ ഓർഡർ നാളെ എത്തും."
        )
        await expect(chat.locator(".nw-msg--agent .nw-sender").first).to_have_text("Meera")
        await visit.say("നന്ദി!")
        await expect(pane).to_contain_text("നന്ദി!")
        await shot(console, "console-with-widget-visitor")
        await shot(visit.page, "desktop-ml-agent")

        await pane.get_by_role("button", name="Close…").click()
        close_form = pane.get_by_role("form", name="Close the conversation")
        await close_form.get_by_label("Resolved", exact=True).check()
        await close_form.get_by_role("button", name="Close conversation").click()
        await expect(pane.locator(".nc-ended")).to_contain_text("Closed (Resolved)")
        await expect(chat.locator(".nw-rating")).to_be_visible()
    finally:
        await console_context.close()
        await visit.close()
