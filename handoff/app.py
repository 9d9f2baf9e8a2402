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
from typing import Any, Callable, List, Optional

import socketio
import yaml
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sanic import Sanic, response
from sanic.request import Request

from handoff.analytics.api import analytics_blueprint
from handoff.auth import TokenSigner, UserStore, load_secret
from handoff.config import Settings
from handoff.conversations import CannedReply, Handoff
from handoff.embedded_redis import resolve_redis_url
from handoff.hours import parse_hours
from handoff.rasa_client import RasaClient
from handoff.sockets import AgentNamespace, ChatNamespace
from handoff.store import Store
from handoff.texts import Texts
from handoff.translation import LiveTranslator

log = logging.getLogger("handoff")
TEXTS_PATH = Path(__file__).resolve().parent.parent / "data" / "handoff" / "messages.yml"


def load_canned_replies(path: Path) -> List[CannedReply]:
    with path.open(encoding="utf-8") as handle:
        table = yaml.safe_load(handle) or {}
    replies = []
    for key, entry in table.items():
        texts = {code: text for code, text in entry.items() if code != "title" and isinstance(text, str)}
        if "en" not in texts:
            raise ValueError(f"{path}: canned reply {key!r} has no English text")
        replies.append(CannedReply(id=key, title=str(entry.get("title") or key), texts=texts))
    return replies


def redis_client(url: str) -> Redis:
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=10,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


def create_app(
    settings: Settings, redis_url: str, name: str = "handoff", on_stop: Optional[Callable[[], None]] = None
) -> Any:
    """The ASGI application. Nothing connects until the server starts; `on_stop` runs after it stops."""
    manager = socketio.AsyncRedisManager(redis_url, channel="handoff-socketio")
    origins: Any = "*" if "*" in settings.cors_origins else list(settings.cors_origins)
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=manager, cors_allowed_origins=origins)
    redis = redis_client(redis_url)
    signer = TokenSigner(load_secret(settings.secret, settings.data_dir))
    store, users = Store(redis), UserStore(redis)
    rasa = RasaClient(settings.rasa_url, timeout=settings.rasa_timeout)
    translator = LiveTranslator(settings.translator_url)
    handoff = Handoff(
        store=store,
        users=users,
        rasa=rasa,
        translator=translator,
        texts=Texts.load(TEXTS_PATH),
        canned=load_canned_replies(settings.canned_replies),
        hours=parse_hours(settings.hours, settings.timezone),
        sio=sio,
        route_all_after=settings.route_all_after,
        agent_grace=settings.agent_grace,
        default_wait=settings.default_wait,
        sweep_interval=settings.sweep_interval,
        bot_idle=settings.bot_idle,
    )
    sio.register_namespace(ChatNamespace(handoff, signer, settings.identity_secret))
    sio.register_namespace(AgentNamespace(handoff, signer))

    app = Sanic(name)
    app.config.KEEP_ALIVE_TIMEOUT = 75
    app.ctx.handoff = handoff

    @app.before_server_start
    async def start_sweeper(app: Sanic) -> None:
        app.ctx.sweeper = asyncio.get_running_loop().create_task(handoff.sweep_forever())

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
        try:
            redis_ok = bool(await redis.ping())
        except RedisError:
            redis_ok = False
        body = {
            "status": "ok" if redis_ok else "degraded",
            "redis": redis_ok,
            "rasa": await rasa.healthy(),
            "translator": bool(await translator.pairs()),
        }
        return response.json(body, status=200 if redis_ok else 503)

    @app.post("/api/login")
    async def login(request: Request) -> Any:
        body = request.json if isinstance(request.json, dict) else {}
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return response.json({"error": "bad_request", "message": "send {username, password}"}, 400)
        try:
            agent = await users.authenticate(username.strip().lower(), password)
        except RedisError:
            return response.json({"error": "unavailable", "message": "storage is unavailable"}, 503)
        if agent is None:
            return response.json({"error": "bad_credentials", "message": "wrong username or password"}, 401)
        token = signer.issue(agent.username, "agent", settings.token_ttl, role=agent.role)
        return response.json({"token": token, "agent": agent.to_wire()})

    @app.get("/api/me")
    async def me(request: Request) -> Any:
        header = request.headers.get("authorization", "")
        try:
            claims = signer.verify(header.removeprefix("Bearer ").strip(), "agent")
            agent = await users.get(claims["sub"])
        except Exception:
            agent = None
        if agent is None:
            return response.json({"error": "unauthorized", "message": "log in again"}, 401)
        return response.json({"agent": agent.to_wire()})

    app.blueprint(  # admin-only /api/analytics, /api/privacy (handoff/analytics/api.py)
        analytics_blueprint(settings, signer, users, redis, redis_url)
    )

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
    log.info("redis: %s%s", redis_url, " (embedded)" if embedded else "")
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
