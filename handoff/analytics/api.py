"""The admin HTTP API for analytics and privacy (a Sanic Blueprint registered by handoff/app.py).

Every route needs `Authorization: Bearer <agent token>` (from POST /api/login) of an agent whose
role is `admin` (401 without a valid token, 403 for other agents), but the past conversations,
which every agent may read.

| route | what |
|---|---|
| `GET /api/analytics/report?from=YYYY-MM-DD&to=YYYY-MM-DD[&window=7][&conversations=1]` | docs/metrics.md measures for conversations created from..to (UTC days, both included; default the last 30 days) |
| `GET /api/analytics/log` | the log writer's backlog: outbox entries not yet written, last written entry |
| `GET /api/privacy/export?customer=ID` | everything about one customer (handoff/analytics/privacy.py) |
| `POST /api/privacy/delete` `{"customer": ID}` | erase one customer everywhere |
| `POST /api/privacy/retention` `{"days"?: N, "mode"?: "anonymise"\\|"delete"}` | apply the retention period now |
| `GET /api/conversations?q=&visitor=&contact=&language=&topic=&outcome=&from=&to=` | past conversations (any agent; handoff/analytics/search.py) |
| `GET /api/conversations/<id>` | one past conversation whole (any agent) |

Authentication and errors go through the service's HTTP edge (handoff/http_edge.py). SQL runs in a
worker thread, so the event loop keeps serving chats meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any, Optional

from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import func, select

from handoff import keyspace
from handoff.analytics import db, metrics, privacy, search
from handoff.analytics.models import Event
from handoff.analytics.retention import apply_retention
from handoff.http_edge import HttpAuth, HttpError


def analytics_blueprint(
    settings: Any, auth: HttpAuth, redis: Any, redis_url: str, attachments: Any = None
) -> Blueprint:
    bp = Blueprint("analytics")
    state: dict = {"engine": None}
    lock = asyncio.Lock()

    async def engine() -> Any:
        async with lock:
            if state["engine"] is None:
                await asyncio.to_thread(db.migrate, settings.database_url)
                state["engine"] = db.make_engine(settings.database_url)
        return state["engine"]

    @bp.after_server_stop
    async def dispose(app: Any) -> None:
        if state["engine"] is not None:
            state["engine"].dispose()

    admin_only = auth.requires_agent(
        role="admin", denied="only administrators can see analytics and privacy tools"
    )

    any_agent = auth.requires_agent()

    @bp.get("/api/conversations")
    @any_agent
    async def past_conversations(request: Request) -> Any:
        try:
            query = search.SearchQuery.parse({k: request.args.get(k, "") for k in request.args})
        except search.SearchError as exc:
            raise HttpError(400, "bad_request", str(exc)) from None
        eng = await engine()

        def run() -> Any:
            with db.sessions(eng)() as session:
                return search.search(session, query)

        return response.json({"conversations": await asyncio.to_thread(run), "limit": search.MAX_RESULTS})

    @bp.get("/api/conversations/<cid:str>")
    @any_agent
    async def past_conversation(request: Request, cid: str) -> Any:
        if not search.TOKEN.match(cid):
            raise HttpError(400, "bad_request", "not a conversation id")
        eng = await engine()

        def run() -> Any:
            with db.sessions(eng)() as session:
                return search.conversation(session, cid)

        found = await asyncio.to_thread(run)
        if found is None:
            raise HttpError(404, "not_found", "no such conversation in the log")
        return response.json({"conversation": found})

    @bp.get("/api/analytics/report")
    @admin_only
    async def report(request: Request) -> Any:
        default_start, default_end = metrics.default_range()
        try:
            start = metrics.parse_day(request.args.get("from") or default_start.isoformat())
            end = metrics.parse_day(request.args.get("to") or (default_end - timedelta(days=1)).isoformat())
            window = int(request.args.get("window") or settings.fcr_window_days)
        except ValueError:
            raise HttpError(
                400, "bad_request", "from and to are YYYY-MM-DD, window a whole number of days"
            ) from None
        if end < start or not 1 <= window <= 365 or (end - start).days > 366:
            raise HttpError(400, "bad_request", "from must not be after to (at most a year); window 1-365")
        eng = await engine()

        def compute() -> Any:
            with db.sessions(eng)() as session:
                return metrics.report(session, start, end + timedelta(days=1), window)

        body = await asyncio.to_thread(compute)
        body["to"] = end.isoformat()
        if request.args.get("conversations") != "1":
            body.pop("conversations")
        return response.json(body)

    @bp.get("/api/analytics/log")
    @admin_only
    async def log_status(request: Request) -> Any:
        eng = await engine()

        def last() -> Any:
            with db.sessions(eng)() as session:
                return session.execute(select(func.count(), func.max(Event.at))).one()

        count, last_at = await asyncio.to_thread(last)
        backlog: Optional[int] = None
        try:
            length = await redis.xlen(keyspace.EVENTS)
            groups = {g["name"]: g for g in await redis.xinfo_groups(keyspace.EVENTS)} if length else {}
            group = groups.get(keyspace.LOG_GROUP)
            if group is None:
                backlog = length
            else:  # pending (read, not written) + not yet read (Redis 6.2 has no `lag`)
                unread = await redis.xrange(
                    keyspace.EVENTS, min="(" + group["last-delivered-id"], max="+", count=10000
                )
                backlog = int(group.get("pending") or 0) + len(unread)
        except RedisError:
            pass
        return response.json(
            {"events_written": count, "last_event_at": last_at, "backlog": backlog, "now": time.time()}
        )

    @bp.get("/api/privacy/export")
    @admin_only
    async def export(request: Request) -> Any:
        customer = (request.args.get("customer") or "").strip()
        if not customer:
            raise HttpError(400, "bad_request", "customer=<verified id or visitor id> is required")
        body = await privacy.export_customer(
            await engine(), redis, customer, settings.rasa_url, settings.rasa_token, attachments
        )
        return response.json(body, default=str)

    @bp.post("/api/privacy/delete")
    @admin_only
    async def erase(request: Request) -> Any:
        body = request.json if isinstance(request.json, dict) else {}
        customer = body.get("customer")
        if not isinstance(customer, str) or not customer.strip():
            raise HttpError(400, "bad_request", 'send {"customer": "<verified id or visitor id>"}')
        return response.json(
            await privacy.delete_customer(
                await engine(), redis, customer.strip(), settings.rasa_url, settings.rasa_token, attachments
            )
        )

    @bp.post("/api/privacy/retention")
    @admin_only
    async def retention_now(request: Request) -> Any:
        body = request.json if isinstance(request.json, dict) else {}
        days = body.get("days", settings.retention_days)
        mode = body.get("mode", settings.retention_mode)
        if (
            not isinstance(days, int)
            or isinstance(days, bool)
            or days < 0
            or mode not in ("anonymise", "delete")
        ):
            raise HttpError(400, "bad_request", 'days: a whole number >= 0; mode: "anonymise" or "delete"')
        eng = await engine()

        def run() -> Any:
            client = keyspace.sync_client(redis_url)
            try:
                return apply_retention(eng, days, mode, redis=client, attachments=attachments)
            finally:
                client.close()

        return response.json({"days": days, "mode": mode, **await asyncio.to_thread(run)})

    return bp
