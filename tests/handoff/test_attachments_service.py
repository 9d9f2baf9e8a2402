"""Attachments through the real service (handoff/app.py in-process, real Redis, real sockets, real
HTTP): upload, the transcript message, links, download, refusals, the SQL log, export and erasure."""

from __future__ import annotations

import asyncio
import io
import time

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from handoff import keyspace
from handoff.analytics import db
from handoff.analytics.models import Message
from handoff.analytics.writer import Writer
from handoff.attachments.links import LinkSigner
from tests.handoff.test_attachment_checks import image_bytes, pdf_bytes
from tests.support.handoff_service import TEST_SECRET, Visitor, handoff_service
from tests.support.processes import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def live(live_clean):
    return live_clean


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def upload(http, token: str, data: bytes, name: str, **form: str) -> httpx.Response:
    return await http.post("/api/attachments", headers=bearer(token), files={"file": (name, data)}, data=form)


async def test_upload_download_and_erasure(live, redis_server, tmp_path):
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as http:
        visitor = await live.visitor(language="en")
        token = visitor.received("session")[0]["visitor_token"]
        early = await upload(http, token, image_bytes("PNG"), "a.png")
        assert early.status_code == 409 and early.json()["error"] == "no_conversation"  # no chat yet

        await visitor.call("request_human", {})
        await visitor.wait_state("queued")
        photo = image_bytes("JPEG", size=(320, 240), exif=True)
        sent = await upload(http, token, photo, "damaged box.jpeg", client_id="up-1")
        assert sent.status_code == 200, sent.text
        body = sent.json()
        ref, cid = body["attachment"], body["conversation_id"]
        assert ref["name"] == "damaged box.jpg" and ref["type"] == "image/jpeg" and ref["id"].startswith("a_")
        echoed = await visitor.wait_message("visitor", attachment=ref)
        assert echoed["text"] == "damaged box.jpg"
        again = await upload(http, token, photo, "damaged box.jpeg", client_id="up-1")  # a retry
        assert again.json()["seq"] == body["seq"] and again.json()["attachment"] == ref

        refusals = [
            (b"<html><script>alert(1)</script></html>", "photo.jpg", 415, "unsupported_type"),
            (b"\xff\xd8\xff\xe0<script>alert(1)</script>", "photo.jpg", 422, "bad_file"),
            (pdf_bytes(b"/OpenAction << /S /JavaScript /JS (x) >> "), "x.pdf", 415, "unsupported_type"),
            (b"\0" * (5 * 1024 * 1024 + 70 * 1024), "big.png", 413, "too_large"),  # Sanic's body limit
        ]
        for data, name, status, code in refusals:
            refused = await upload(http, token, data, name)
            assert (refused.status_code, refused.json()["error"]) == (status, code), refused.text
            assert refused.json()["message"]
        assert (await upload(http, "forged", photo, "x.jpg")).status_code == 401

        agent = await live.agent("ann")
        agent_token = live.signer.issue("ann", "agent", 3600, role="agent")
        assert (await agent.claim(cid))["ok"]
        opened = await agent.call("open", {"conversation_id": cid})
        shown = [m for m in opened["conversation"]["messages"] if m["meta"].get("attachment")]
        assert [m["meta"]["attachment"] for m in shown] == [ref]

        link = await http.get(f"/api/attachments/{cid}/{ref['id']}/link", headers=bearer(agent_token))
        assert link.status_code == 200 and link.json()["expires_at"] > time.time() + 800
        got = await http.get(link.json()["url"])
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in got.headers["content-security-policy"]
        kept = Image.open(io.BytesIO(got.content))
        assert kept.size == (320, 240) and len(kept.getexif()) == 0 and b"SpyCam" not in got.content
        assert got.content != photo

        # another visitor cannot get a link to this file; a changed or expired link is refused
        stranger = await live.visitor(language="en")
        stranger_token = stranger.received("session")[0]["visitor_token"]
        mine = await http.get(f"/api/attachments/{cid}/{ref['id']}/link", headers=bearer(stranger_token))
        assert mine.status_code == 403 and mine.json()["error"] == "forbidden"
        tampered = link.json()["url"].replace(f"exp={link.json()['expires_at']}", "exp=99999999999")
        assert (await http.get(tampered)).json()["error"] == "bad_link"
        past = LinkSigner(TEST_SECRET.encode(), 60, clock=lambda: time.time() - 3600).link(cid, ref["id"])
        expired = await http.get(past["url"])
        assert (expired.status_code, expired.json()["error"]) == (410, "link_expired")

        # the agent sends a PDF; the visitor gets it, as a download
        pdf = pdf_bytes()
        other = await live.visitor(language="en")  # someone else's conversation: not the agent's
        other_cid = (await other.call("request_human", {}))["conversation_id"]
        wrong = await upload(http, agent_token, pdf, "x.pdf", conversation_id=other_cid)
        assert (wrong.status_code, wrong.json()["error"]) == (403, "forbidden")
        from_agent = await upload(http, agent_token, pdf, "label.pdf", conversation_id=cid, client_id="ag-1")
        assert from_agent.status_code == 200, from_agent.text
        pdf_ref = from_agent.json()["attachment"]
        message = await visitor.wait_message("agent", attachment=pdf_ref)
        assert message["meta"]["agent"]["name"] and "translated" not in message["meta"]
        visitor_link = await http.get(f"/api/attachments/{cid}/{pdf_ref['id']}/link", headers=bearer(token))
        got_pdf = await http.get(visitor_link.json()["url"])
        assert got_pdf.content == pdf and got_pdf.headers["content-type"] == "application/pdf"
        assert got_pdf.headers["content-disposition"].startswith("attachment;")

        # the SQL log has both messages with their references (the real writer, from the outbox)
        database_url = f"sqlite:///{tmp_path / 'log.db'}"
        writer = Writer(keyspace.sync_client(redis_server), database_url, consumer="attach", block_ms=50)
        try:
            await asyncio.to_thread(writer.run, True)
        finally:
            writer.close()
        engine = db.make_engine(database_url)
        with db.sessions(engine)() as session:
            logged = [
                m.meta["attachment"]
                for m in session.scalars(select(Message))
                if (m.meta or {}).get("attachment")
            ]
        engine.dispose()
        assert logged == [ref, pdf_ref]

        # privacy: export has the files, erasure deletes them and the links stop working
        admin_token = live.signer.issue("boss", "agent", 3600, role="admin")
        await live.service.users.create("boss", "password-123", "admin", "en", None, 3)
        vid = visitor.received("session")[0]["visitor_id"]
        exported = await http.get(
            "/api/privacy/export", params={"customer": vid}, headers=bearer(admin_token)
        )
        files = exported.json()["attachments"][cid]
        assert [f["id"] for f in files] == [ref["id"], pdf_ref["id"]] and files[1]["data_base64"]
        erased = await http.post("/api/privacy/delete", json={"customer": vid}, headers=bearer(admin_token))
        assert erased.json()["attachments"] == 2
        gone = await http.get(visitor_link.json()["url"])
        assert (gone.status_code, gone.json()["error"]) == (404, "not_found")
        assert (await http.get(link.json()["url"])).status_code == 404


async def test_uploads_are_rate_limited_per_visitor(redis_url, tmp_path):
    """A real service process with a small upload quota: the third file in a minute gets 429 with
    retry_after, and is not stored."""
    port = free_port()
    nowhere = f"http://127.0.0.1:{free_port()}"
    service = handoff_service(
        "attach-limits", port, redis_url, nowhere, nowhere, tmp_path, HANDOFF_LIMIT_UPLOAD_VISITOR="2/minute"
    ).start()
    base = f"http://127.0.0.1:{port}"
    visitor = await Visitor(base).connect({})
    try:
        session = await visitor.wait_for("session")
        await visitor.call("request_human", {})
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:
            codes = []
            for n in range(3):
                answer = await upload(http, session["visitor_token"], image_bytes("PNG"), f"{n}.png")
                codes.append(answer.status_code)
            assert codes == [200, 200, 429]
            body = answer.json()
            assert body["error"] == "rate_limited" and 1 <= body["retry_after"] <= 60
            assert answer.headers["retry-after"] == str(body["retry_after"])
        files = list((tmp_path / "attach-limits-data" / "attachments").rglob("a_*.json"))
        assert len(files) == 2
    finally:
        await visitor.disconnect()
        service.stop()


async def test_uploads_at_once_never_pass_the_per_conversation_cap(live, tmp_path):
    """Six uploads at once into a conversation with room for three: three are kept, three get
    too_many_files; a refused file gives its slot back (lua.FILE_SLOT; it was a listing checked
    before writing, so simultaneous uploads all passed)."""
    from handoff.attachments.checks import Limits, Refused
    from handoff.attachments.desk import SLOT_FIELD, AttachmentDesk, Upload
    from handoff.attachments.storage import LocalDirectory
    from handoff.http_edge import HttpError

    service = live.service
    desk = AttachmentDesk(
        service.store,
        service.transcript,
        LocalDirectory(tmp_path / "files"),
        LinkSigner(TEST_SECRET.encode(), 900),
        Limits(5 * 1024 * 1024, 4096 * 4096),
        per_conversation=3,
    )
    visitor = await live.visitor(language="en")
    cid = (await visitor.call("request_human", {}))["conversation_id"]
    vid = visitor.received("session")[0]["visitor_id"]

    for _ in range(4):  # more refusals than the cap: each gives its slot back
        with pytest.raises(Refused) as refused_file:
            await desk.from_visitor(vid, Upload(b"<html></html>", "x.jpg"))
        assert refused_file.value.code == "unsupported_type"
    assert int(await live.redis.hget(keyspace.conversation(cid), SLOT_FIELD) or 0) == 0

    photo = image_bytes("PNG", size=(64, 48))
    results = await asyncio.gather(
        *(desk.from_visitor(vid, Upload(photo, f"p{i}.png", client_id=f"c-{i}")) for i in range(6)),
        return_exceptions=True,
    )
    kept = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, HttpError)]
    assert len(kept) == 3 and [r.code for r in refused] == ["too_many_files"] * 3
    assert len(desk.storage.list_conversation(cid)) == 3
    assert int(await live.redis.hget(keyspace.conversation(cid), SLOT_FIELD)) == 3
