"""Events produced by the real handoff service flow through the real writer process into SQL.

No Rasa (RASA_URL is a closed port): the visitor asks for a person directly (`request_human`), an
agent claims, answers, transfers nothing and closes; the visitor rates. The writer runs as its own
process, `python -m handoff.analytics.writer`, exactly as the Procfile starts it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import redis as redis_sync
from sqlalchemy import select

from handoff.analytics import db
from handoff.analytics.metrics import conversation_facts, measures
from handoff.analytics.models import Conversation, Event, Message, Transition
from tests.analytics.test_writer import Outage
from tests.support.handoff_service import (
    IDENTITY_SECRET,
    AgentClient,
    Visitor,
    add_agent,
    handoff_service,
    login,
)
from tests.support.processes import REPO_ROOT, SVC_VENV, base_env, free_port


def start_writer(redis_url: str, database_url: str, log_path, *extra: str) -> subprocess.Popen:
    argv = [str(SVC_VENV / "bin" / "python"), "-m", "handoff.analytics.writer"]
    argv += ["--redis-url", redis_url, "--database-url", database_url, "--consumer", "e2e", *extra]
    return subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env=base_env(),
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            return process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    return process.returncode


async def test_real_chats_reach_the_sql_log(redis_url, database_url, tmp_path):
    port = free_port()
    closed = f"http://127.0.0.1:{free_port()}"
    service = handoff_service(
        "svc", port, redis_url, closed, closed, tmp_path, DATABASE_URL=database_url
    ).start()
    writer = start_writer(redis_url, database_url, tmp_path / "writer.log")
    base = f"http://127.0.0.1:{port}"
    clients = []
    try:
        add_agent(redis_url, "asha", languages="bn,en", display_name="Asha")
        add_agent(redis_url, "boss", role="admin", display_name="Boss")
        signature = hmac.new(IDENTITY_SECRET.encode(), b"customer-42", hashlib.sha256).hexdigest()
        visitor = await Visitor(base).connect(
            {"language": "bn", "identity": {"id": "customer-42", "signature": signature}}
        )
        clients.append(visitor)
        vid = (await visitor.wait_for("session"))["visitor_id"]
        agent = await AgentClient.logged_in(base, "asha")
        clients.append(agent)
        ack = await visitor.call("request_human", {})
        cid = ack["conversation_id"]
        await visitor.wait_state("queued")
        await agent.wait_queued(cid)
        assert (await agent.claim(cid))["ok"]
        await visitor.say("আমার অর্ডার কোথায়?")
        assert (await agent.reply(cid, "Let me check"))["ok"]
        assert (await agent.call("close", {"conversation_id": cid, "resolution": "resolved"}))["ok"]
        await visitor.wait_state("closed")
        assert (await visitor.call("rate", {"score": 5, "resolved": True}))["ok"]

        # a second, abandoned conversation of the same customer
        await visitor.call("request_human", {})
        await visitor.wait_state("queued")
        assert (await visitor.call("leave", {}))["ok"]

        rds = redis_sync.Redis.from_url(redis_url, decode_responses=True)
        stored = [json.loads(m) for m in rds.lrange(f"conv:{cid}:msgs", 0, -1)]
        engine = db.make_engine(database_url)
        deadline = time.monotonic() + 20
        while True:
            with db.sessions(engine)() as session:
                convs = session.scalars(select(Conversation).order_by(Conversation.created_at)).all()
                done = len(convs) == 2 and convs[1].end_event == "abandon" and convs[0].rating_score == 5
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert done, (tmp_path / "writer.log").read_text()
        with db.sessions(engine)() as session:
            first = session.get(Conversation, cid)
            assert (first.visitor_id, first.verified_id, first.state, first.language) == (
                vid,
                "customer-42",
                "closed",
                "bn",
            )
            assert (first.escalation_reason, first.first_agent, first.resolution_code) == (
                "requested",
                "asha",
                "resolved",
            )
            assert first.first_claimed_at >= first.escalated_at and first.first_agent_message_at > 0
            messages = session.scalars(
                select(Message).where(Message.conversation_id == cid).order_by(Message.seq)
            ).all()
            assert [(m.seq, m.sender, m.text) for m in messages] == [
                (m["seq"], m["sender"], m["text"]) for m in stored
            ]
            events = session.scalars(
                select(Transition.event).where(Transition.conversation_id == cid).order_by(Transition.at)
            ).all()
            assert events == ["escalate", "claim", "close"]
            entry_ids = session.scalars(select(Event.entry_id)).all()
            assert len(entry_ids) == len(set(entry_ids))
            facts = conversation_facts(session, *_days(first.created_at), window_days=7, as_of=time.time())
            row = measures(facts)
            assert (row["conversations"], row["escalated"], row["abandoned"], row["rated"], row["csat"]) == (
                2,
                2,
                1,
                1,
                1.0,
            )
            assert row["survey_fcr"] == 1.0 and row["fcr_eligible"] == 0  # closed minutes ago: not yet
        engine.dispose()

        # the admin API on the same service
        day = _days(first.created_at)[0].isoformat()
        boss = {"Authorization": "Bearer " + login(base, "boss")["token"]}
        asha = {"Authorization": "Bearer " + login(base, "asha")["token"]}
        assert http(base + f"/api/analytics/report?from={day}&to={day}")[0] == 401
        assert http(base + f"/api/analytics/report?from={day}&to={day}", headers=asha)[0] == 403
        status, body = http(base + f"/api/analytics/report?from={day}&to={day}&window=3", headers=boss)
        assert status == 200 and body["window_days"] == 3
        total = body["rows"][0]
        assert (total["dimension"], total["conversations"], total["abandoned"], total["csat"]) == (
            "all",
            2,
            1,
            1.0,
        )
        assert http(base + "/api/analytics/report?from=2026-13-01", headers=boss)[0] == 400
        status, log_status = http(base + "/api/analytics/log", headers=boss)
        assert status == 200 and log_status["events_written"] > 10
        status, exported = http(base + "/api/privacy/export?customer=customer-42", headers=boss)
        assert status == 200 and len(exported["conversation_ids"]) == 2
        assert exported["redis"][f"visitor:{vid}"]["verified_id"] == "customer-42"
        status, erased = http(base + "/api/privacy/delete", {"customer": "customer-42"}, headers=boss)
        assert status == 200 and erased["sql"]["conversations"] == 2, erased
        assert not rds.exists(f"visitor:{vid}", f"conv:{cid}")
        status, body = http(base + f"/api/analytics/report?from={day}&to={day}", headers=boss)
        assert body["rows"][0]["conversations"] == 0
        rds.close()
    finally:
        for client in clients:
            if client.sio.connected:
                await client.disconnect()
        code = stop(writer)
        service.stop()
    assert code == 0, (tmp_path / "writer.log").read_text()


def http(url, payload=None, headers=None):
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode() if payload is not None else None,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST" if payload is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _days(at: float):
    from datetime import UTC, datetime, timedelta

    day = datetime.fromtimestamp(at, UTC).date()
    return day, day + timedelta(days=2)


async def test_chats_go_on_while_the_database_is_down_and_are_logged_once_after(
    redis_url, database_url, tmp_path, pg_admin
):
    """The writer process and the service run; the database goes away (PostgreSQL renamed, SQLite
    locked); visitors and an agent keep chatting; the database comes back; every message is in SQL
    exactly once and nothing is left unacknowledged."""
    writer_url = database_url + ("?timeout=0.3" if database_url.startswith("sqlite") else "")
    port = free_port()
    closed = f"http://127.0.0.1:{free_port()}"
    service = handoff_service("svc", port, redis_url, closed, closed, tmp_path).start()
    writer = start_writer(redis_url, writer_url, tmp_path / "writer.log", "--max-backoff", "0.5")
    base = f"http://127.0.0.1:{port}"
    clients, cids = [], []
    rds = redis_sync.Redis.from_url(redis_url, decode_responses=True)
    outage = Outage(database_url, pg_admin)
    try:
        add_agent(redis_url, "asha", languages="en", capacity=5, display_name="Asha")
        agent = await AgentClient.logged_in(base, "asha")
        clients.append(agent)

        async def chat(n: int) -> str:
            visitor = await Visitor(base).connect({"language": "en"})
            clients.append(visitor)
            await visitor.wait_for("session")
            cid = (await visitor.call("request_human", {}))["conversation_id"]
            await agent.wait_queued(cid)
            assert (await agent.claim(cid))["ok"]
            for i in range(3):
                await visitor.say(f"message {i} of chat {n}")
                assert (await agent.reply(cid, f"answer {i}"))["ok"]
            assert (await agent.call("close", {"conversation_id": cid, "resolution": "resolved"}))["ok"]
            cids.append(cid)
            return cid

        await chat(0)
        wait_for_rows(database_url, cids)
        outage.begin()
        started = time.monotonic()
        for n in (1, 2):  # chats during the outage: nothing waits for SQL
            await chat(n)
        assert time.monotonic() - started < 15
        time.sleep(1.0)
        assert rds.xpending("log:events", "sql-log")["pending"] > 0  # read, kept, not acknowledged
        outage.end()
        wait_for_rows(database_url, cids)
        assert writer.poll() is None
    finally:
        for client in clients:
            if client.sio.connected:
                await client.disconnect()
        code = stop(writer)
        service.stop()
    log = (tmp_path / "writer.log").read_text()
    assert "database unavailable" in log and "writing resumed" in log, log
    assert code == 0, log
    engine = db.make_engine(database_url)
    try:
        with db.sessions(engine)() as session:
            for cid in cids:
                stored = [json.loads(m) for m in rds.lrange(f"conv:{cid}:msgs", 0, -1)]
                logged = session.execute(
                    select(Message.seq, Message.sender, Message.text)
                    .where(Message.conversation_id == cid)
                    .order_by(Message.seq)
                ).all()
                assert [tuple(row) for row in logged] == [(m["seq"], m["sender"], m["text"]) for m in stored]
            entry_ids = session.scalars(select(Event.entry_id)).all()
            assert len(entry_ids) == len(set(entry_ids))
    finally:
        engine.dispose()
    assert rds.xpending("log:events", "sql-log")["pending"] == 0
    rds.close()


def wait_for_rows(database_url: str, cids, timeout: float = 30) -> None:
    """Until every conversation in `cids` is in SQL, closed."""
    engine = db.make_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with db.sessions(engine)() as session:
                    closed = session.scalars(
                        select(Conversation.id).where(
                            Conversation.id.in_(cids), Conversation.state == "closed"
                        )
                    ).all()
                if len(closed) == len(cids):
                    return
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"conversations not logged in {timeout} s: {set(cids) - set(closed)}")
            time.sleep(0.1)
    finally:
        engine.dispose()
