"""The handoff service: a Sanic app (HTTP) and a python-socketio server (sockets), served by uvicorn.

    python -m handoff [--host H] [--port P]

Socket.IO runs beside Sanic as ASGI apps (python-socketio's recommended way
with Sanic); Sanic answers everything that is not /socket.io/. With several
processes, `AsyncRedisManager` relays emits between them through Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import socketio
from redis.exceptions import RedisError
from sanic import Sanic, response
from sanic.request import Request

from handoff import keyspace, tracker_erasure
from handoff.analytics.api import analytics_blueprint
from handoff.attachments.checks import Limits
from handoff.attachments.desk import AttachmentDesk
from handoff.attachments.http import install_attachments
from handoff.attachments.links import LinkSigner
from handoff.attachments.storage import LocalDirectory
from handoff.canned import load_canned_replies
from handoff.config import Settings
from handoff.embedded_redis import resolve_redis_url
from handoff.hours import parse_hours
from handoff.http_edge import HttpAuth, HttpError, install_error_handler
from handoff.mailer import Mailer
from handoff.protocol import MAX_FRAME_BYTES
from handoff.quotas import Quotas, RateLimited, request_ip
from handoff.rasa_client import RasaClient
from handoff.service import build_service
from handoff.sockets import AgentNamespace, ChatNamespace
from handoff.texts import Texts
from handoff.tokens import TokenSigner, load_secret
from handoff.translation import LiveTranslator
from handoff.waiting import Timing

log = logging.getLogger("handoff")
MEMORY_ALERT = 0.9  # /health turns `degraded` (and logs) when Redis uses this share of maxmemory
TEXTS_PATH = Path(__file__).resolve().parent.parent / "data" / "handoff" / "messages.yml"


def create_app(
    settings: Settings, redis_url: str, name: str = "handoff", on_stop: Optional[Callable[[], None]] = None
) -> Any:
    """The ASGI application. Nothing connects until the server starts; `on_stop` runs after it stops."""
    manager = socketio.AsyncRedisManager(redis_url, channel=keyspace.SOCKETIO_CHANNEL)
    # No origins configured: None = python-socketio accepts only the service's own origin.
    origins: Any = "*" if "*" in settings.cors_origins else (list(settings.cors_origins) or None)
    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=origins,
        max_http_buffer_size=MAX_FRAME_BYTES,
    )
    redis = keyspace.async_client(redis_url)
    secret = load_secret(settings.secret, settings.data_dir)
    signer = TokenSigner(secret)
    settings = settings.with_(rasa_token=settings.resolved_rasa_token())
    rasa = RasaClient(settings.rasa_url, timeout=settings.rasa_timeout, token=settings.rasa_token or "")
    translator = LiveTranslator(settings.translator_url)
    timing = Timing(
        route_all_after=settings.route_all_after,
        agent_grace=settings.agent_grace,
        default_wait=settings.default_wait,
        sweep_interval=settings.sweep_interval,
        bot_idle=settings.bot_idle,
        queue_abandon=settings.queue_abandon,
    )
    service = build_service(
        redis,
        sio,
        rasa,
        translator,
        texts=Texts.load(TEXTS_PATH),
        canned=load_canned_replies(settings.canned_replies),
        hours=parse_hours(settings.hours, settings.timezone),
        timing=timing,
        mailer=Mailer(settings.smtp_url),
        max_messages=settings.max_messages,
        anonymous_ttl=settings.anonymous_visitor_ttl,
    )
    quotas = Quotas(redis_url, settings.limits)
    sio.register_namespace(
        ChatNamespace(service, signer, settings.identity_secret, quotas, settings.forwarded_for)
    )
    sio.register_namespace(AgentNamespace(service, signer, quotas))
    auth = HttpAuth(signer, service.users)

    app = Sanic(name)
    app.config.KEEP_ALIVE_TIMEOUT = 75
    app.ctx.service = service
    install_error_handler(app)

    @app.before_server_start
    async def start_sweeper(app: Sanic) -> None:
        app.ctx.sweeper = asyncio.get_running_loop().create_task(service.sweeper.forever())

    @app.after_server_stop
    async def stop(app: Sanic) -> None:
        app.ctx.sweeper.cancel()
        await rasa.close()
        await translator.close()
        await redis.aclose()
        if on_stop is not None:  # uvicorn re-raises SIGTERM after shutdown: clean up here, not after run()
            await asyncio.get_running_loop().run_in_executor(None, on_stop)

    @app.get("/health")
    async def health(request: Request) -> Any:
        memory: Any = None
        erasures: Optional[int] = None
        try:
            redis_ok = bool(await redis.ping())
            info = await redis.info("memory")
            used, ceiling = int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))
            memory = {"used": used, "max": ceiling, "policy": info.get("maxmemory_policy")}
            erasures = await tracker_erasure.pending(redis)
        except RedisError:
            redis_ok = False
        full = bool(memory and memory["max"] and memory["used"] >= MEMORY_ALERT * memory["max"])
        if full:  # the alert: with noeviction, writes start failing at maxmemory
            log.warning("redis memory at %d of %d bytes (maxmemory)", memory["used"], memory["max"])
        body = {
            "status": "ok" if redis_ok and not full else "degraded",
            "redis": redis_ok,
            "redis_memory": memory,
            "rasa": await rasa.healthy(),
            # running (it answers), and how many language pairs it can translate (0: no models)
            "translator": bool(await translator.pairs()) or translator.reachable,
            "translation_pairs": len(await translator.pairs()),
            "rasa_erasures_pending": erasures,  # trackers still to clear (handoff/tracker_erasure.py)
        }
        return response.json(body, status=200 if redis_ok else 503)

    @app.post("/api/login")
    async def login(request: Request) -> Any:
        body = request.json if isinstance(request.json, dict) else {}
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise HttpError(400, "bad_request", "send {username, password}")
        username = username.strip().lower()
        ip = request_ip(request.ip, request.headers.get("x-forwarded-for"), settings.forwarded_for)
        try:
            await quotas.hit("login_ip", ip)
            await quotas.check("login_failures", username[:100])  # locked: not even an scrypt
            agent = await service.users.authenticate(username, password)
            if agent is None:
                await quotas.hit("login_failures", username[:100])
            else:
                await quotas.clear("login_failures", username[:100])
        except RateLimited as exc:
            locked = exc.quota == "login_failures"
            message = (
                f"too many failed logins for this account; try again in {exc.retry_after} s"
                if locked
                else f"too many login attempts from this address; try again in {exc.retry_after} s"
            )
            raise HttpError(429, "rate_limited", message, exc.retry_after) from None
        except RedisError:
            raise HttpError(503, "unavailable", "storage is unavailable") from None
        if agent is None:
            raise HttpError(401, "bad_credentials", "wrong username or password")
        token = signer.issue(
            agent.username, "agent", settings.token_ttl, role=agent.role, ver=agent.token_version
        )
        return response.json({"token": token, "agent": agent.to_wire()})

    @app.post("/api/logout")
    @auth.requires_agent()
    async def logout(request: Request) -> Any:
        """Revokes every token of the agent (all devices); their open sockets are closed."""
        await service.users.revoke_tokens(request.ctx.agent.username)
        return response.json({"ok": True})

    @app.get("/api/me")
    @auth.requires_agent()
    async def me(request: Request) -> Any:
        return response.json({"agent": request.ctx.agent.to_wire()})

    attachments = LocalDirectory(settings.attachment_dir)
    links = LinkSigner(secret, settings.attachment_link_ttl)
    limits = Limits(settings.attachment_max_bytes, settings.attachment_max_pixels)
    desk = AttachmentDesk(
        service.store, service.transcript, attachments, links, limits, settings.attachments_per_conversation
    )
    install_attachments(app, auth, desk, attachments, links, quotas, settings.forwarded_for)
    app.blueprint(
        analytics_blueprint(settings, auth, redis, redis_url, attachments)
    )  # admin-only /api/analytics, /api/privacy

    console = settings.console_dir / "console"

    @app.get("/")
    async def root(request: Request) -> Any:
        return response.redirect("/console/")

    # Built front-ends (make widget): the agent console, and whatever else widget/ builds (issue 4).
    for folder in ("console", "widget", "demo"):
        if (settings.console_dir / folder / "index.html").exists() or (
            settings.console_dir / folder
        ).is_dir():
            app.static(f"/{folder}/", settings.console_dir / folder, index="index.html", name=folder)
    if not (console / "index.html").exists():

        @app.get("/console/<path:path>")
        async def console_missing(request: Request, path: str = "") -> Any:
            return response.text(
                f"The agent console is not built ({console}); run `make widget`.", status=503
            )

    return socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="socket.io")


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff", description=__doc__.splitlines()[0])
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    settings = settings.with_(host=args.host or settings.host, port=args.port or settings.port)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not one line per bot turn
    redis_url, embedded = resolve_redis_url(settings.redis_url, settings.embedded_redis_dir)
    log.info("redis: %s%s", keyspace.redacted(redis_url), " (embedded)" if embedded else "")
    try:
        import uvicorn

        uvicorn.run(
            create_app(settings, redis_url, on_stop=embedded.stop if embedded else None),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            lifespan="on",
        )
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
