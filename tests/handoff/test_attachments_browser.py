"""Attachments end to end in Debian's Chromium (headless, Playwright) against the real service.

A real handoff service process on a real Redis serves the built widget (/demo/, /widget/) and the
console (/console/). The visitor is a browser on the demo page (the chat iframe), the agent a
browser on the console; an admin erases the customer through the HTTP API. Rasa and the
translator are not started: the visitor asks for a person with "Talk to a person", which needs no
bot. Steps: the visitor sends a photo (with EXIF) and a PDF with the paperclip; a file the service
refuses shows an error in the visitor's language; the agent sees the photo inline and the PDF as
a chip, and downloads both (bytes checked); the agent sends a PDF, the visitor downloads it; the
customer is erased: the files are gone from disk and the links answer 404. Screenshots:
results/screenshots/attachments-*.png (desktop and phone width).
"""

from __future__ import annotations

import io
import json
import re
import urllib.request
from pathlib import Path
from typing import Any, AsyncIterator, List

import pytest
import pytest_asyncio
from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.handoff.test_attachment_checks import pdf_bytes
from tests.support.console import console_service, log_in
from tests.support.handoff_service import login

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD = REPO_ROOT / "build" / "widget"
SCREENSHOTS = REPO_ROOT / "results" / "screenshots"
TITLE = "Nimbus Store help"
TIMEOUT = 20.0
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 780}


def box_photo() -> bytes:
    """A 640x480 JPEG "photo of a damaged box" with EXIF (camera make, GPS position)."""
    image = Image.new("RGB", (640, 480), (214, 222, 230))
    draw = ImageDraw.Draw(image)
    draw.polygon([(170, 170), (420, 140), (500, 210), (250, 245)], fill=(196, 150, 96))
    draw.polygon([(170, 170), (250, 245), (250, 420), (170, 340)], fill=(160, 118, 70))
    draw.polygon([(250, 245), (500, 210), (500, 380), (250, 420)], fill=(181, 134, 82))
    draw.line([(300, 240), (340, 300), (320, 360), (360, 410)], fill=(60, 40, 20), width=6)  # the tear
    tags = Image.Exif()
    tags[0x010F] = "SpyCam"
    tags[0x8825] = {2: (12.0, 34.0, 56.0), 1: "N"}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=tags.tobytes(), quality=90)
    return out.getvalue()


@pytest.fixture
def server(redis_url: str, tmp_path: Path) -> Any:
    for built in (BUILD / "widget" / "index.html", BUILD / "demo" / "index.html"):
        if not built.exists():
            pytest.fail(f"{built} is missing: run `make widget`")
    agents = (("asha", "bn,en"), ("boss", "en", "admin"))
    with console_service("attach", redis_url, tmp_path, agents) as console:
        yield {"url": console.base_url, "files": tmp_path / "attach-data" / "attachments"}


@pytest_asyncio.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(
        path=str(SCREENSHOTS / f"attachments-{name}.png"), full_page=name.startswith("console")
    )


def http(url: str, body: Any = None, token: str = "") -> tuple:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def natural_width(image: Any) -> int:
    """The decoded width of an <img> once its (signed) src is set and loaded."""
    await expect(image).to_have_attribute(
        "src", re.compile(r"^/api/attachments/c_[0-9a-f]{16}/a_[0-9a-f]{16}\?exp=")
    )
    return await image.evaluate("img => img.decode().then(() => img.naturalWidth)")


async def new_page(browser: Browser, viewport: dict, errors: List[str], locale: str = "en-GB") -> Page:
    context = await browser.new_context(viewport=viewport, locale=locale, accept_downloads=True)
    context.set_default_timeout(TIMEOUT * 1000)
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    return page


@pytest.mark.asyncio
async def test_an_attachment_through_upload_download_and_erasure(server: Any, browser: Browser) -> None:
    expect.set_options(timeout=TIMEOUT * 1000)
    base, errors = server["url"], []
    photo = box_photo()
    receipt = pdf_bytes()

    # The agent is online in the console.
    agent = await new_page(browser, {"width": 1400, "height": 900}, errors)
    await log_in(agent, base, "asha")

    # The visitor (Bengali UI) asks for a person, then sends a photo and a PDF with the paperclip.
    visitor = await new_page(browser, DESKTOP, errors, locale="bn-BD")
    await visitor.goto(f"{base}/demo/")
    await visitor.get_by_role("button", name=re.compile(TITLE)).click()
    chat = visitor.frame_locator(f'iframe[title="{TITLE}"]')
    await chat.locator("select.nw-language").select_option("bn")
    paperclip = chat.locator("button.nw-attach")
    await expect(paperclip).to_be_hidden()  # with the bot: no files
    await chat.locator(".nw-footer .nw-link").first.click()  # "Talk to a person"
    await expect(paperclip).to_be_visible()  # queued: files go to the person who takes the chat
    await expect(paperclip).to_have_attribute("aria-label", "ছবি বা PDF যোগ করুন")
    await agent.locator(".nc-queue-item").get_by_role("button", name="Claim").click()
    pane = agent.locator(".nc-pane:not([hidden])")
    cid = await pane.get_attribute("data-conversation-id")
    await expect(chat.locator(".nw-status")).to_contain_text("Asha")
    picker = chat.locator("input.nw-file-input")
    # A file the service refuses (HTML named .jpg): an error in the visitor's language, nothing sent.
    await picker.set_input_files(
        {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"<html><script>alert(1)</script>"}
    )
    await expect(chat.locator(".nw-upload")).to_have_text("শুধু ছবি (JPEG, PNG, WebP, GIF) আর PDF ফাইল পাঠানো যায়।")
    await expect(chat.locator(".nw-upload")).to_have_attribute("data-state", "error")
    await shot(visitor, "widget-refused")
    await picker.set_input_files({"name": "ভাঙা বাক্স.jpg", "mimeType": "image/jpeg", "buffer": photo})
    visitor_photo = chat.locator(".nw-msg--visitor img.nw-thumb")
    await expect(visitor_photo).to_have_count(1)
    assert await natural_width(visitor_photo) == 640
    await picker.set_input_files({"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": receipt})
    await expect(chat.locator(".nw-msg--visitor .nw-file--doc .nw-file-name")).to_have_text("receipt.pdf")
    await expect(chat.locator(".nw-upload")).to_be_hidden()  # the error went with the next file sent
    await expect(chat.locator(".nw-msg--visitor .nw-file")).to_have_count(2)  # the refused one is not there
    await shot(visitor, "widget-desktop")

    # The agent sees them arrive in the console: the photo inline, the PDF as a chip.
    thumb = pane.locator(".nc-msg--visitor img.nc-thumb")
    assert await natural_width(thumb) == 640
    src = await thumb.get_attribute("src")
    shown = await agent.request.get(f"{base}{src}" if src.startswith("/") else src)
    assert shown.ok and shown.headers["content-type"] == "image/jpeg"
    shown_bytes = await shown.body()
    kept = Image.open(io.BytesIO(shown_bytes))
    assert kept.size == (640, 480) and len(kept.getexif()) == 0 and b"SpyCam" not in shown_bytes
    stored = {p.read_bytes() for p in (server["files"] / cid).iterdir() if not p.name.endswith(".json")}
    assert stored == {shown_bytes, receipt}  # the re-encoded photo, the PDF as sent
    async with agent.expect_download() as download:
        await pane.locator(".nc-msg--visitor .nc-file--doc").click()
    got = await download.value
    assert got.suggested_filename == "receipt.pdf"
    assert Path(await got.path()).read_bytes() == receipt
    await shot(agent, "console-desktop")

    # The agent sends a PDF; the visitor downloads it.
    label = pdf_bytes(b"/Rotate 90 ")
    await pane.locator('input[type="file"]').set_input_files(
        {"name": "return-label.pdf", "mimeType": "application/pdf", "buffer": label}
    )
    await expect(pane.locator(".nc-msg--agent .nc-file-name")).to_have_text("return-label.pdf")
    chip = chat.locator(".nw-msg--agent .nw-file--doc")
    await expect(chip).to_have_attribute("data-ready", "true")
    async with visitor.expect_download() as download:
        await chip.click()
    got = await download.value
    assert Path(await got.path()).read_bytes() == label
    links = [await chip.get_attribute("href"), src]
    await shot(visitor, "widget-agent-file")

    # Phone width: the same chat in the widget (full screen) and the console.
    await visitor.set_viewport_size(PHONE)
    await expect(chat.locator(".nw-msg--visitor img.nw-thumb")).to_be_visible()
    await shot(visitor, "widget-phone")
    await agent.set_viewport_size(PHONE)
    await expect(pane.locator("img.nc-thumb")).to_be_visible()
    assert await agent.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await visitor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await shot(agent, "console-phone")

    # Erasure: the files leave the disk and every link stops working.
    vid = json.loads(await visitor.frames[1].evaluate("localStorage.getItem('nimbus-chat:v1')"))["visitorId"]
    admin = login(base, "boss")["token"]
    status, body = http(f"{base}/api/privacy/delete", {"customer": vid}, admin)
    assert status == 200 and json.loads(body)["attachments"] == 3, body
    assert not (server["files"] / cid).exists()
    for link in links:
        status, body = http(base + link)
        assert (status, json.loads(body)["error"]) == (404, "not_found"), (link, body)
    assert errors == []
