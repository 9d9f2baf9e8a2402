"""Privacy: export or erase everything about one customer, and the retention period.

    python -m handoff.analytics.privacy export --customer ID [--out file.json]
    python -m handoff.analytics.privacy delete --customer ID [--yes]
    python -m handoff.analytics.privacy retention [--days N] [--mode anonymise|delete]

`ID` is the host site's verified customer id (`verified_id`) or a widget visitor id. The customer's
visitor ids are every visitor with that id or that verified id (SQL and Redis); their
conversations are every conversation of those visitors.

Where a customer's data lives (handoff/keyspace.py lists every Redis key and spells them for this
module too; agents' `user:*` records hold no customer data):

| store | what | export | delete |
|---|---|---|---|
| SQL | `visitors`, `conversations`, `messages`, `transitions`, `events` rows | yes | yes |
| Redis | `visitor:<vid>`, `visitor:<vid>:open`, `visitor:<vid>:convs` | yes | yes |
| Redis | `conv:<cid>`, `conv:<cid>:msgs`, `conv:<cid>:clients` | yes | yes |
| Redis | members `<cid>` of `queue`, `offline`, `active`, `agent:<username>:chats` | - | yes |
| Redis | outbox entries (`log:events`) of those visitors / conversations not yet written | - | yes (XDEL), before SQL, so the writer cannot write them back |
| Rasa | the tracker of each conversation (sender id = conversation id) | yes (GET tracker) | yes (PUT an empty event list; retried until done, below) |
| files | attachments of those conversations (handoff/attachments/storage.py) | yes (metadata + base64 bytes) | yes |

Erasing leaves tombstones (`erasures`: the erased visitor and conversation ids, which are random
ids, and the time): an entry the writer had already read when the erasure ran is then not written
back. A visitor id is only blocked up to the erasure time, so a customer who comes back later is
logged again like anyone else.

Rasa's tracker store is in memory in this project's configuration (endpoints.yml has no
`tracker_store`), so it is also gone when Rasa restarts. Rasa down: the rest is still done, and a
tracker not cleared is queued for the sweeper (handoff/tracker_erasure.py; `/health` counts them).

Retention (`HANDOFF_RETENTION_DAYS`) is handoff/analytics/retention.py; the `retention` command here
applies it now.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import httpx
from redis.asyncio import Redis
from sqlalchemy import delete, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from handoff import keyspace, tracker_erasure
from handoff.analytics import db
from handoff.analytics.contacts import contact_key, matches
from handoff.analytics.models import (
    Conversation,
    Erasure,
    Event,
    Message,
    RejectedEvent,
    Transition,
    Visitor,
)
from handoff.analytics.retention import apply_retention
from handoff.attachments.storage import AttachmentStorage, LocalDirectory, erase_files, export_files
from handoff.config import Settings
from handoff.embedded_redis import resolve_redis_url


def _row(obj: Any) -> Dict[str, Any]:
    return {column.key: getattr(obj, column.key) for column in obj.__table__.columns}


# --- finding the customer -------------------------------------------------------------------


async def _redis_visitors(redis: Redis, customer: str) -> Set[str]:
    found = set()
    wanted = contact_key(customer)
    if await redis.exists(keyspace.visitor(customer)):
        found.add(customer)
    async for key in redis.scan_iter(match=keyspace.VISITOR_PATTERN, count=500):
        vid = keyspace.visitor_id_of(key)
        if not vid:
            continue
        verified, info = await redis.hmget(key, "verified_id", "info")
        if verified == customer or (wanted and matches(wanted, info)):
            found.add(vid)
    if wanted:  # the offline form's contact
        async for key in redis.scan_iter(match=keyspace.conversation("c_*"), count=500):
            if keyspace.CONVERSATION_KEY.fullmatch(key):
                vid, offline = await redis.hmget(key, "visitor_id", "offline")
                if vid and matches(wanted, offline):
                    found.add(vid)
    return found


def _sql_scope(session: Session, customer: str, vids: Set[str]) -> Tuple[Set[str], Set[str]]:
    vids = set(vids) | set(
        session.scalars(
            select(Visitor.id).where(or_(Visitor.id == customer, Visitor.verified_id == customer))
        )
    )
    cids = set(
        session.scalars(
            select(Conversation.id).where(
                or_(Conversation.visitor_id.in_(vids), Conversation.verified_id == customer)
            )
        )
    )
    wanted = contact_key(customer)
    if wanted:  # the pre-chat form's email or phone (visitors), then the offline form's contact
        contact = or_(Visitor.email.is_not(None), Visitor.phone.is_not(None))
        for vid, email, phone in session.execute(
            select(Visitor.id, Visitor.email, Visitor.phone).where(contact)
        ):
            if matches(wanted, json.dumps({"email": email, "phone": phone})):
                vids.add(vid)
        for cid, vid, offline in session.execute(
            select(Conversation.id, Conversation.visitor_id, Conversation.offline).where(
                Conversation.offline.is_not(None)
            )
        ):
            if matches(wanted, json.dumps(offline)):
                cids.add(cid)
                vids.add(vid)
        cids |= set(session.scalars(select(Conversation.id).where(Conversation.visitor_id.in_(vids))))
    vids |= set(session.scalars(select(Conversation.visitor_id).where(Conversation.id.in_(cids))))
    return vids, cids


def _in_session(engine: Engine, work: Any, *args: Any) -> Any:
    """`work(session, *args)` in a session of its own (run in a worker thread: SQL blocks)."""
    with db.sessions(engine)() as session:
        return work(session, *args)


async def scope(redis: Optional[Redis], engine: Engine, customer: str) -> Tuple[Set[str], Set[str]]:
    """(visitor ids, conversation ids) of the customer, from SQL and Redis."""
    vids = await _redis_visitors(redis, customer) if redis is not None else set()
    vids, cids = await asyncio.to_thread(_in_session, engine, _sql_scope, customer, vids)
    if redis is not None:
        for vid in list(vids):
            cids |= set(await redis.lrange(keyspace.visitor_conversations(vid), 0, -1))
    return vids, cids


# --- Rasa -----------------------------------------------------------------------------------


RASA_ATTEMPTS = 3


async def _rasa(
    rasa_url: Optional[str], cids: Set[str], erase: bool, token: Optional[str] = None
) -> Dict[str, Any]:
    if not rasa_url:
        return {"status": "not configured"}
    trackers: Dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(base_url=rasa_url, timeout=10, params={"token": token or ""}) as client:
            for cid in sorted(cids):
                for attempt in range(RASA_ATTEMPTS):  # a failed erasure is tried again
                    try:
                        if erase:
                            response = await client.put(f"/conversations/{cid}/tracker/events", json=[])
                        else:
                            response = await client.get(f"/conversations/{cid}/tracker")
                        response.raise_for_status()
                        break
                    except (httpx.TransportError, httpx.HTTPStatusError):
                        if attempt == RASA_ATTEMPTS - 1:
                            raise
                        await asyncio.sleep(0.5 * 2**attempt)
                trackers[cid] = "erased" if erase else response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return {"status": f"unreachable: {exc.__class__.__name__}: {exc}", "trackers": trackers}
    return {"status": "ok", "trackers": trackers}


# --- export and delete ----------------------------------------------------------------------


def _sql_export(session: Session, vids: Set[str], cids: Set[str]) -> Dict[str, Any]:
    visitors = [_row(v) for v in session.scalars(select(Visitor).where(Visitor.id.in_(vids)))]
    conversations = []
    for conv in session.scalars(
        select(Conversation).where(Conversation.id.in_(cids)).order_by(Conversation.created_at)
    ):
        item = _row(conv)
        item["messages"] = [
            _row(m)
            for m in session.scalars(
                select(Message).where(Message.conversation_id == conv.id).order_by(Message.seq)
            )
        ]
        item["transitions"] = [
            _row(t)
            for t in session.scalars(
                select(Transition).where(Transition.conversation_id == conv.id).order_by(Transition.at)
            )
        ]
        conversations.append(item)
    return {"visitors": visitors, "conversations": conversations}


async def export_customer(
    engine: Engine,
    redis: Optional[Redis],
    customer: str,
    rasa_url: Optional[str] = None,
    rasa_token: Optional[str] = None,
    attachments: Optional[AttachmentStorage] = None,
) -> Dict[str, Any]:
    """Everything stored about `customer` (JSON-ready). SQL runs in a worker thread."""
    vids, cids = await scope(redis, engine, customer)
    sql = await asyncio.to_thread(_in_session, engine, _sql_export, vids, cids)
    live: Dict[str, Any] = {}
    if redis is not None:
        for vid in sorted(vids):
            live[keyspace.visitor(vid)] = await redis.hgetall(keyspace.visitor(vid))
            convs = keyspace.visitor_conversations(vid)
            live[convs] = await redis.lrange(convs, 0, -1)
        for cid in sorted(cids):
            live[keyspace.conversation(cid)] = await redis.hgetall(keyspace.conversation(cid))
            messages = keyspace.messages(cid)
            live[messages] = [json.loads(m) for m in await redis.lrange(messages, 0, -1)]
    return {
        "customer": customer,
        "exported_at": time.time(),
        "visitor_ids": sorted(vids),
        "conversation_ids": sorted(cids),
        "sql": sql,
        "redis": live,
        "rasa": await _rasa(rasa_url, cids, erase=False, token=rasa_token),
        "attachments": await asyncio.to_thread(export_files, attachments, cids),
    }


async def _erase_redis(redis: Redis, vids: Set[str], cids: Set[str]) -> Dict[str, int]:
    counts = {"keys": 0, "index_entries": 0, "outbox_entries": 0}
    # the outbox first: an unwritten entry must not bring the data back into SQL
    doomed: List[str] = []
    last = "-"
    while True:
        batch = await redis.xrange(keyspace.EVENTS, min=last, max="+", count=1000)
        batch = [item for item in batch if item[0] != last]
        if not batch:
            break
        doomed += [i for i, f in batch if f.get("cid") in cids or f.get("vid") in vids]
        last = batch[-1][0]
    for start in range(0, len(doomed), 500):
        counts["outbox_entries"] += await redis.xdel(keyspace.EVENTS, *doomed[start : start + 500])
    for cid in cids:
        agent = await redis.hget(keyspace.conversation(cid), "agent")
        if agent:
            counts["index_entries"] += await redis.srem(keyspace.agent_chats(agent), cid)
        counts["index_entries"] += await redis.zrem(keyspace.QUEUE, cid)
        counts["index_entries"] += await redis.zrem(keyspace.OFFLINE, cid)
        counts["index_entries"] += await redis.zrem(keyspace.ACTIVE, cid)
        counts["keys"] += await redis.delete(*keyspace.conversation_keys(cid))
    for vid in vids:
        counts["keys"] += await redis.delete(*keyspace.visitor_keys(vid))
    return counts


def _erase_sql(session: Session, vids: Set[str], cids: Set[str]) -> Dict[str, int]:
    counts = {}
    counts["messages"] = session.execute(delete(Message).where(Message.conversation_id.in_(cids))).rowcount
    counts["transitions"] = session.execute(
        delete(Transition).where(Transition.conversation_id.in_(cids))
    ).rowcount
    counts["events"] = session.execute(
        delete(Event).where(or_(Event.conversation_id.in_(cids), Event.visitor_id.in_(vids)))
    ).rowcount
    counts["conversations"] = session.execute(delete(Conversation).where(Conversation.id.in_(cids))).rowcount
    counts["visitors"] = session.execute(delete(Visitor).where(Visitor.id.in_(vids))).rowcount
    ids = vids | cids  # entries the writer could not apply, kept for inspection: theirs go too
    doomed = [
        r.entry_id
        for r in session.scalars(select(RejectedEvent))
        if r.fields
        and ({r.fields.get("cid"), r.fields.get("vid")} & ids or any(i in json.dumps(r.fields) for i in ids))
    ]
    counts["rejected_events"] = (
        session.execute(delete(RejectedEvent).where(RejectedEvent.entry_id.in_(doomed))).rowcount
        if doomed
        else 0
    )
    return counts


def _sql_erase(engine: Engine, customer: str, vids: Set[str], cids: Set[str]) -> Dict[str, int]:
    with db.sessions(engine)() as session, session.begin():
        vids, more = _sql_scope(session, customer, vids)  # anything the writer wrote meanwhile
        cids |= more
        counts = _erase_sql(session, vids, cids)
        # tombstones: entries the writer read before the erasure and writes after it are skipped
        now = time.time()
        for kind, ids in (("visitor", vids), ("conversation", cids)):
            for id_ in ids:
                session.merge(Erasure(kind=kind, id=id_, at=now))
    return counts


async def delete_customer(
    engine: Engine,
    redis: Optional[Redis],
    customer: str,
    rasa_url: Optional[str] = None,
    rasa_token: Optional[str] = None,
    attachments: Optional[AttachmentStorage] = None,
) -> Dict[str, Any]:
    """Erase `customer` everywhere; returns what was removed where. SQL runs in a worker thread."""
    vids, cids = await scope(redis, engine, customer)
    result: Dict[str, Any] = {
        "customer": customer,
        "visitor_ids": sorted(vids),
        "conversation_ids": sorted(cids),
    }
    result["redis"] = await _erase_redis(redis, vids, cids) if redis is not None else "not configured"
    result["sql"] = await asyncio.to_thread(_sql_erase, engine, customer, vids, cids)
    result["rasa"] = await _rasa(rasa_url, cids, erase=True, token=rasa_token)
    cleared = result["rasa"].pop("trackers", None) or {}
    if rasa_url and redis is not None:  # not cleared (Rasa down): queued, the sweeper retries
        result["rasa"].update(await tracker_erasure.queue_missed(redis, set(cids) - set(cleared)))
    result["attachments"] = await asyncio.to_thread(erase_files, attachments, cids)
    return result


# --- the CLI --------------------------------------------------------------------------------


async def _main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    url = args.database_url or settings.database_url
    db.migrate(url)
    engine = db.make_engine(url)
    files = LocalDirectory(settings.attachment_dir)
    try:
        if args.command == "retention":
            days = settings.retention_days if args.days is None else args.days
            mode = args.mode or settings.retention_mode
            redis_url, embedded = resolve_redis_url(
                args.redis_url or settings.redis_url, settings.embedded_redis_dir
            )
            client = keyspace.sync_client(redis_url)
            try:
                counts = apply_retention(engine, days, mode, redis=client, attachments=files)
            finally:
                client.close()
                if embedded is not None:
                    embedded.stop()
            print(json.dumps({"days": days, "mode": mode, **counts}))
            return 0
        redis_url, embedded = resolve_redis_url(
            args.redis_url or settings.redis_url, settings.embedded_redis_dir
        )
        redis = keyspace.async_client(redis_url)
        try:
            if args.command == "export":
                token = settings.resolved_rasa_token()
                body = await export_customer(engine, redis, args.customer, settings.rasa_url, token, files)
                text = json.dumps(body, ensure_ascii=False, indent=2, default=str)
                if args.out:
                    with open(args.out, "w", encoding="utf-8") as handle:
                        handle.write(text + "\n")
                    print(f"{len(body['conversation_ids'])} conversations exported to {args.out}")
                else:
                    print(text)
            else:
                if not args.yes:
                    answer = input(f"Erase everything about {args.customer!r}? Type yes: ")
                    if answer.strip().lower() != "yes":
                        print("nothing erased")
                        return 1
                token = settings.resolved_rasa_token()
                body = await delete_customer(engine, redis, args.customer, settings.rasa_url, token, files)
                print(json.dumps(body, ensure_ascii=False, indent=2))
        finally:
            await redis.aclose()
            if embedded is not None:
                embedded.stop()
    finally:
        engine.dispose()
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m handoff.analytics.privacy", description=__doc__.splitlines()[0]
    )
    parser.add_argument("command", choices=["export", "delete", "retention"])
    parser.add_argument("--customer", help="verified customer id or visitor id (export, delete)")
    parser.add_argument("--out", help="export: write the JSON here")
    parser.add_argument("--yes", action="store_true", help="delete: do not ask")
    parser.add_argument("--days", type=int, help="retention: default HANDOFF_RETENTION_DAYS")
    parser.add_argument(
        "--mode", choices=["anonymise", "delete"], help="retention: default HANDOFF_RETENTION_MODE"
    )
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    args = parser.parse_args(argv)
    if args.command in ("export", "delete") and not args.customer:
        parser.error("--customer is required")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
