"""What the service shows the network (issue 11): CORS closed unless configured, engine.io's frame
limit at the protocol's, malformed unicode in the handshake, no secret in a log line. On the real
service in this process (tests/support/live_service.py) with real Socket.IO clients."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from typing import Any, Dict, Tuple

import pytest
import socketio

from handoff import keyspace, protocol
from handoff.config import Settings
from handoff.sockets import ChatNamespace
from tests.support.handoff_service import AgentClient, Visitor

session_loop = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def live(live_clean):
    return live_clean


def test_cors_is_closed_unless_configured():
    assert Settings.from_env({}).cors_origins == ()
    assert Settings.from_env(
        {"HANDOFF_CORS_ORIGINS": "https://shop.example, https://b.example"}
    ).cors_origins == (
        "https://shop.example",
        "https://b.example",
    )


@session_loop
async def test_a_socket_from_another_origin_is_refused(live):
    intruder = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await intruder.connect(
            live.base_url,
            namespaces=["/chat"],
            headers={"Origin": "https://evil.example"},
            transports=["websocket"],
            wait_timeout=5,
        )
    assert await live.redis.keys("visitor:*") == []  # refused before anything was written
    own = socketio.AsyncClient(reconnection=False)
    await own.connect(live.base_url, namespaces=["/chat"], headers={"Origin": live.base_url}, wait_timeout=5)
    await own.disconnect()


@session_loop
async def test_a_frame_over_the_limit_closes_the_socket_and_stores_nothing(live):
    visitor = await live.visitor()
    ack = await visitor.call("visitor_message", {"text": "hi", "client_id": "a", "pad": "p" * 17000})
    assert ack["error"]["code"] == "too_long"  # over 16 KiB, within the frame: a clear error
    await visitor.emit("visitor_message", {"text": "hi", "client_id": "b", "pad": "p" * 40000})
    for _ in range(50):
        if not visitor.sio.connected:
            break
        await asyncio.sleep(0.1)
    assert not visitor.sio.connected
    assert protocol.MAX_FRAME_BYTES < 20 * 1024
    assert await live.redis.keys("conv:*") == []


@session_loop
@pytest.mark.parametrize(
    "auth",
    [
        {"identity": {"id": "cust-1", "signature": "ü" * 64}},
        {"identity": {"id": "cust-\ud800", "signature": "00"}},
        {"language": "bn\u0000"},
        {"language": "\ud83d"},
        {"language": "ও"},
        {"identity": {"id": "ü" * 201, "signature": "x"}},
    ],
)
async def test_malformed_unicode_in_the_handshake_is_ignored(live, auth):
    visitor = await Visitor(live.base_url).connect(auth)
    live.clients.append(visitor)
    session = await visitor.wait_for("session")
    assert session["visitor_id"].startswith("v_")
    fields = await live.redis.hgetall(keyspace.visitor(session["visitor_id"]))
    assert "verified_id" not in fields and fields.get("language") in (None, "")


def test_a_signature_that_is_not_ascii_is_a_bad_signature(live):
    chat = ChatNamespace(live.service, live.signer, "host-secret")  # TypeError before issue 11
    assert chat.verified_identity({"id": "cust-1", "signature": "ü" * 64}) is None
    assert chat.verified_identity({"id": "cust-\ud800", "signature": "00"}) is None


def test_redis_passwords_never_reach_the_log():
    assert keyspace.redacted("redis://:s3cret@redis.internal:6379/0") == "redis://:***@redis.internal:6379/0"
    assert "s3cret" not in keyspace.redacted("rediss://nimbus:s3cret@h/1?password=s3cret&db=2")
    assert keyspace.redacted("unix:///tmp/r/redis.sock?db=0") == "unix:///tmp/r/redis.sock?db=0"


@session_loop
async def test_a_conversation_holds_at_most_its_message_cap(live):
    store = live.service.store
    store.max_messages = 3  # HANDOFF_MAX_MESSAGES
    try:
        visitor = await live.visitor()
        first = await visitor.call("visitor_message", {"text": "one", "client_id": "c1"})
        acks = [first]
        for n in range(2, 8):
            acks.append(await visitor.call("visitor_message", {"text": f"n{n}", "client_id": f"c{n}"}))
        full = [a for a in acks if not a["ok"]]
        assert full and {a["error"]["code"] for a in full} == {"conversation_full"}, acks
        cid = first["conversation_id"]
        stored = [json.loads(m) for m in await live.redis.lrange(keyspace.messages(cid), 0, -1)]
        texts = {m["text"] for m in stored if m["sender"] == "visitor"}
        assert len(texts) <= 3 and not texts & {f"n{n}" for n in range(2, 8) if not acks[n - 1]["ok"]}
        again = await visitor.call("visitor_message", {"text": "one", "client_id": "c1"})
        assert again["ok"] and again["seq"] == first["seq"]  # a retry of a stored message is still acked
    finally:
        store.max_messages = 1000


def test_security_md_lists_every_limit_with_its_default():
    from pathlib import Path

    from handoff.quotas import QUOTAS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    documented = dict(re.findall(r"^\| `(HANDOFF_LIMIT_[A-Z_]+)` \| `([^`]+)` \|", doc, flags=re.M))
    assert documented == {q.env: q.default for q in QUOTAS}


def _http(base: str, path: str, token: str = "", body: Any = None) -> Tuple[int, Dict[str, Any]]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def _closed(client: Any, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds * 10)):
        if not client.sio.connected:
            return True
        await asyncio.sleep(0.1)
    return False


@session_loop
@pytest.mark.parametrize("how", ["password change", "logout"])
async def test_an_old_token_is_refused_and_its_socket_closed(live, how):
    await live.service.users.create("rina", "password-123", "agent", "en")
    status, body = await asyncio.to_thread(
        _http, live.base_url, "/api/login", body={"username": "rina", "password": "password-123"}
    )
    assert status == 200, body
    token = body["token"]
    console = await AgentClient(live.base_url).connect({"token": token})
    live.clients.append(console)
    await console.wait_for("agent_session")
    if how == "logout":
        status, _ = await asyncio.to_thread(_http, live.base_url, "/api/logout", token, {})
        assert status == 200
    else:
        await live.service.users.update("rina", password="a-new-password-456")
    assert await _closed(console), "the open socket of a revoked token stays open"
    status, body = await asyncio.to_thread(_http, live.base_url, "/api/me", token)
    assert (status, body["error"]) == (401, "unauthorized")
    again = AgentClient(live.base_url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await again.connect({"token": token})
    new_password = "a-new-password-456" if how != "logout" else "password-123"
    status, body = await asyncio.to_thread(
        _http, live.base_url, "/api/login", body={"username": "rina", "password": new_password}
    )
    assert (
        status == 200 and (await asyncio.to_thread(_http, live.base_url, "/api/me", body["token"]))[0] == 200
    )


@session_loop
async def test_a_socket_is_closed_when_its_token_expires(live):
    await live.service.users.create("omar", "password-123", "agent", "en")
    token = live.signer.issue("omar", "agent", 2, role="agent", ver=0)
    console = await AgentClient(live.base_url).connect({"token": token})
    live.clients.append(console)
    await console.wait_for("agent_session")
    assert await _closed(console, 6.0)


@session_loop
async def test_an_anonymous_visitor_record_expires_and_one_with_a_conversation_is_kept(live):
    idle = await live.visitor()
    talks = await live.visitor()
    idle_vid = (await idle.wait_for("session"))["visitor_id"]
    talks_vid = (await talks.wait_for("session"))["visitor_id"]
    ttl = live.service.store.anonymous_ttl
    assert 0 < await live.redis.ttl(keyspace.visitor(idle_vid)) <= ttl
    await talks.say("hello")
    assert await live.redis.ttl(keyspace.visitor(talks_vid)) == -1  # persisted with its conversation


@session_loop
async def test_health_alerts_when_redis_nears_maxmemory(live):
    status, body = await asyncio.to_thread(_http, live.base_url, "/health")
    assert body["redis_memory"]["policy"] == "noeviction" and body["status"] in ("ok", "degraded")
    used = int((await live.redis.info("memory"))["used_memory"])
    await live.redis.config_set("maxmemory", str(int(used * 1.05)))
    try:
        status, body = await asyncio.to_thread(_http, live.base_url, "/health")
        assert body["status"] == "degraded" and body["redis_memory"]["max"] > 0, body
    finally:
        await live.redis.config_set("maxmemory", "0")
    status, body = await asyncio.to_thread(_http, live.base_url, "/health")
    assert body["redis_memory"]["max"] == 0
