"""The real handoff service (handoff/app.py) served by uvicorn inside the tests' event loop, on a real
Redis, for fast tests of its modules: real sockets and real clients, no Rasa and no translator (their
URLs point at closed ports, as when they are down). The integration tests with the whole stack are in
tests/handoff/test_service.py.

Sanic keeps per-process state that a second app in one process trips over, so one service serves
the whole test session (tests/handoff/conftest.py: `live`, session loop); each test starts from an
empty database and disconnects its clients. Timed behaviour (grace period, idle conversations,
routing) is tested by calling the sweeper and the waiting line with a chosen `now`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, List

import uvicorn

from handoff.app import create_app
from handoff.config import Settings
from handoff.service import Service
from handoff.tokens import TokenSigner
from tests.support.handoff_service import GENEROUS_LIMITS, TEST_SECRET, AgentClient, Visitor
from tests.support.processes import free_port


@dataclass
class LiveService:
    base_url: str
    service: Service
    signer: TokenSigner
    clients: List[Any]

    @property
    def redis(self) -> Any:
        return self.service.store.redis

    async def reset(self) -> None:
        """Between tests: close the last test's sockets and empty the database."""
        for client in self.clients:
            if client.sio.connected:
                await client.disconnect()
        self.clients.clear()
        await asyncio.sleep(0.05)
        await self.redis.flushdb()

    async def agent(
        self, username: str, languages: str = "en", capacity: int = 3, role: str = "agent"
    ) -> Any:
        """Create the agent (if needed) and connect a real /agent socket for them."""
        if await self.service.users.get(username) is None:
            await self.service.users.create(username, "password-123", role, languages, None, capacity)
        token = self.signer.issue(username, "agent", 3600, role=role)
        client = await AgentClient(self.base_url).connect({"token": token})
        self.clients.append(client)
        await client.wait_for("agent_session")
        return client

    async def visitor(self, **auth: Any) -> Visitor:
        client = await Visitor(self.base_url).connect(auth)
        self.clients.append(client)
        await client.wait_for("session")
        return client


@contextlib.asynccontextmanager
async def live_service(redis_url: str, **settings: Any) -> AsyncIterator[LiveService]:
    """The service on a free port; `settings` override handoff/config.py's Settings."""
    data_dir = Path(tempfile.mkdtemp(prefix="nimbus-live-"))
    values = dict(
        redis_url=redis_url,
        data_dir=data_dir,
        secret=TEST_SECRET,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        rasa_token="no-rasa-here",
        limits=GENEROUS_LIMITS,
        translator_url=f"http://127.0.0.1:{free_port()}",
        rasa_timeout=2,
        sweep_interval=0.3,
    )
    values.update(settings)
    config = Settings(**values)
    app = create_app(config, redis_url, name="live_" + secrets.token_hex(4))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    live = LiveService(
        f"http://127.0.0.1:{port}", app.other_asgi_app.ctx.service, TokenSigner(TEST_SECRET.encode()), []
    )
    try:
        yield live
    finally:
        for client in live.clients:
            if client.sio.connected:
                await client.disconnect()
        server.should_exit = True
        await task
        shutil.rmtree(data_dir, ignore_errors=True)
