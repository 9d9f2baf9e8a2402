"""The handoff service as a real process, and real Socket.IO clients for visitors and agents."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import socketio

from handoff.embedded_redis import EmbeddedRedis
from handoff.quotas import BY_NAME, QUOTAS
from tests.support.processes import (
    REPO_ROOT,
    SVC_VENV,
    Service,
    base_env,
    build_test_models,
    free_port,
    install_models,
    start_bot,
)

TEST_SECRET = "test-secret-" + "0123456789abcdef" * 3
PASSWORD = "correct horse battery"
IDENTITY_SECRET = "host-site-identity-secret"
# The suites that are not about rate limits run many clients from 127.0.0.1: limits that they never
# reach (the code path still runs). The adversarial suite (test_adversarial.py) runs the defaults:
# DEFAULT_LIMITS as the environment.
GENEROUS_LIMITS = tuple((q.name, "10000/minute") for q in QUOTAS)
DEFAULT_LIMITS = {q.env: "" for q in QUOTAS}


def handoff_service(
    name: str,
    port: int,
    redis_url: str,
    rasa_url: str,
    translator_url: str,
    log_dir: Path,
    **env: str,
) -> Service:
    settings = {
        "HANDOFF_PORT": str(port),
        "REDIS_URL": redis_url,
        "RASA_URL": rasa_url,
        "TRANSLATOR_URL": translator_url,
        "HANDOFF_SECRET": TEST_SECRET,
        "HANDOFF_DATA_DIR": str(log_dir / f"{name}-data"),
        "HANDOFF_RASA_TIMEOUT": "10",
        "HANDOFF_IDENTITY_SECRET": IDENTITY_SECRET,
        **{BY_NAME[name].env: value for name, value in GENEROUS_LIMITS},
    }
    settings.update(env)
    return Service(
        name,
        [str(SVC_VENV / "bin" / "python"), "-m", "handoff", "--port", str(port)],
        f"http://127.0.0.1:{port}/health",
        base_env(**settings),
        log_dir,
        startup_timeout=60,
    )


@contextlib.contextmanager
def running_stack(
    logs: Path,
    handoff_names: Sequence[str] = ("a",),
    agents: Sequence[Tuple[str, str, int]] = (),
    **settings: str,
) -> Iterator[Dict[str, Any]]:
    """The whole system as real processes: an embedded Redis, the translator with tiny real bn<->en
    models, the action server, Rasa with the trained model, and one handoff service process per
    name in `handoff_names` (all on the one Redis). `agents`: (username, languages, capacity).
    Yields the URLs (one per service name), and stops everything on the way out, even after a failure."""
    redis_server = EmbeddedRedis(logs / "redis")
    redis_url = redis_server.start()
    services: List[Service] = []
    try:
        packages = logs / "translation-models"
        install_models(build_test_models(logs / "argos", [("bn", "en"), ("en", "bn")]), packages)
        bot = start_bot(logs, packages, services)
        translator_url, rasa_url = bot["translator_url"], bot["rasa_url"]
        ports = {name: free_port() for name in handoff_names}
        settings = {"RASA_TOKEN": bot["rasa_token"], **settings}
        for name in handoff_names:
            services.append(
                handoff_service(
                    name, ports[name], redis_url, rasa_url, translator_url, logs, **settings
                ).start()
            )
        for username, languages, capacity in agents:
            role = "admin" if username == "boss" else "agent"
            add_agent(redis_url, username, languages=languages, capacity=capacity, role=role)
        stack: Dict[str, Any] = {name: f"http://127.0.0.1:{ports[name]}" for name in handoff_names}
        stack.update(
            redis_url=redis_url,
            redis_server=redis_server,
            rasa_url=rasa_url,
            rasa_token=bot["rasa_token"],
            translator_url=translator_url,
            logs=logs,
            services=services,
        )
        yield stack
    finally:
        for service in reversed(services):
            service.stop()
        redis_server.stop()


def add_agent(
    redis_url: str,
    username: str,
    languages: str = "en",
    role: str = "agent",
    capacity: int = 3,
    display_name: Optional[str] = None,
) -> None:
    """Create an agent with the project's CLI (python -m handoff.users), as an admin would."""
    argv = [
        str(SVC_VENV / "bin" / "python"),
        "-m",
        "handoff.users",
        "--redis-url",
        redis_url,
        "add",
        username,
    ]
    argv += ["--role", role, "--languages", languages, "--capacity", str(capacity), "--password-stdin"]
    argv += ["--display-name", display_name or username.capitalize()]
    subprocess.run(argv, input=PASSWORD + "\n", text=True, cwd=REPO_ROOT, env=base_env(), check=True)


def login(base_url: str, username: str, password: str = PASSWORD) -> Dict[str, Any]:
    request = urllib.request.Request(
        base_url + "/api/login",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class Client:
    """A python-socketio AsyncClient on one namespace that records every event it receives."""

    namespace = "/"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: List[tuple] = []
        self._changed = asyncio.Event()

        @self.sio.on("*", namespace=self.namespace)
        async def record(event: str, *args: Any) -> None:
            self.events.append((event, args[0] if args else None))
            self._changed.set()

        @self.sio.on("connect_error", namespace=self.namespace)
        async def refused(data: Any = None) -> None:
            self.events.append(("connect_error", data))

    async def connect(self, auth: Optional[Dict[str, Any]] = None) -> Client:
        await self.sio.connect(
            self.base_url,
            namespaces=[self.namespace],
            auth=auth or {},
            transports=["websocket"],
            wait_timeout=10,
        )
        return self

    async def disconnect(self) -> None:
        await self.sio.disconnect()

    async def call(self, event: str, data: Any = None, timeout: float = 20) -> Any:
        return await self.sio.call(
            event, data if data is not None else {}, namespace=self.namespace, timeout=timeout
        )

    async def emit(self, event: str, data: Any) -> None:
        await self.sio.emit(event, data, namespace=self.namespace)

    def received(self, event: str) -> List[Any]:
        return [data for name, data in self.events if name == event]

    async def wait_for(self, event: str, predicate: Any = lambda data: True, timeout: float = 20) -> Any:
        """The first `event` (already received or still to come) whose payload satisfies `predicate`."""
        seen = 0

        async def scan() -> Any:
            nonlocal seen
            while True:
                for name, data in self.events[seen:]:
                    seen += 1
                    if name == event and predicate(data):
                        return data
                self._changed.clear()
                await self._changed.wait()

        seen = 0
        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            recent = [name for name, _ in self.events[-15:]]
            raise AssertionError(f"no {event!r} matching within {timeout}s; last events: {recent}") from None


class Visitor(Client):
    namespace = "/chat"

    async def say(self, text: str, client_id: Optional[str] = None) -> Dict[str, Any]:
        ack = await self.call("visitor_message", {"text": text, "client_id": client_id or uuid.uuid4().hex})
        assert ack["ok"], ack
        return ack

    def messages(self, sender: Optional[str] = None) -> List[Dict[str, Any]]:
        return [m for m in self.received("message") if sender is None or m["sender"] == sender]

    async def wait_message(
        self, sender: str, after_seq: int = 0, timeout: float = 20, **meta: Any
    ) -> Dict[str, Any]:
        def match(m: Dict[str, Any]) -> bool:
            return (
                m["sender"] == sender
                and m["seq"] > after_seq
                and all(m["meta"].get(k) == v for k, v in meta.items())
            )

        return await self.wait_for("message", match, timeout)

    async def wait_state(self, state: str, timeout: float = 20) -> Dict[str, Any]:
        return await self.wait_for("status", lambda s: s["state"] == state, timeout)


class AgentClient(Client):
    namespace = "/agent"

    @classmethod
    async def logged_in(cls, base_url: str, username: str) -> AgentClient:
        token = login(base_url, username)["token"]
        return await cls(base_url).connect({"token": token})  # type: ignore[return-value]

    async def claim(self, cid: str) -> Dict[str, Any]:
        return await self.call("claim", {"conversation_id": cid})

    async def reply(self, cid: str, text: str, client_id: Optional[str] = None) -> Dict[str, Any]:
        return await self.call(
            "agent_message",
            {"conversation_id": cid, "text": text, "client_id": client_id or uuid.uuid4().hex},
        )

    async def wait_queued(self, cid: str, timeout: float = 20) -> Dict[str, Any]:
        async def poll() -> Dict[str, Any]:
            while True:
                ack = await self.call("queue")
                for entry in ack["queue"]:
                    if entry["conversation_id"] == cid:
                        return entry
                await asyncio.sleep(0.2)

        return await asyncio.wait_for(poll(), timeout)
