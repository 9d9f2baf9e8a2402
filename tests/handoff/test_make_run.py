"""`make run` as a user runs it: scripts/supervise.py on the real Procfile, every real process.

Only the handoff service may face the network, and by default nothing does: every port is bound to
127.0.0.1; Rasa's HTTP API refuses calls without the token (generated into the token file when
RASA_TOKEN is unset), and the plain `rest` channel is gone. The supervisor restarts a process that
was SIGKILLed, says so, and Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import MODEL, RASA_VENV, REPO_ROOT, SVC_VENV, base_env, free_port, get_json

NAMES = ("translator", "actions", "rasa", "handoff")


def listeners() -> dict:
    """port -> set of local addresses in LISTEN state (/proc/net/tcp and tcp6, as `ss -ltn`)."""
    found: dict = {}
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            address, port = fields[1].split(":")
            raw = bytes.fromhex(address)
            if family == socket.AF_INET:
                raw = raw[::-1]
            else:
                raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
            found.setdefault(int(port, 16), set()).add(socket.inet_ntop(family, raw))
    return found


def http(method: str, url: str, body: bytes = b"") -> int:
    request = urllib.request.Request(url, data=body or None, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_until(check, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout}s; supervisor log:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def made_run():
    assert MODEL.exists(), f"no trained model at {MODEL}: run `make train`"
    data = Path(tempfile.mkdtemp(prefix="nimbus-run-", dir="/tmp"))
    ports = {name: free_port() for name in NAMES}
    env = base_env(
        SVC_PY=str(SVC_VENV / "bin" / "python"),
        RASA_PY=str(RASA_VENV / "bin" / "python"),
        RASA_BIN=str(RASA_VENV / "bin" / "rasa"),
        MODEL=str(MODEL),
        RASA_PORT=str(ports["rasa"]),
        ACTIONS_PORT=str(ports["actions"]),
        TRANSLATOR_PORT=str(ports["translator"]),
        HANDOFF_PORT=str(ports["handoff"]),
        RASA_HOST="127.0.0.1",
        ACTIONS_HOST="127.0.0.1",
        RASA_URL=f"http://127.0.0.1:{ports['rasa']}",
        TRANSLATOR_URL=f"http://127.0.0.1:{ports['translator']}",
        ARGOS_PACKAGES_DIR=str(data / "models"),
        HANDOFF_DATA_DIR=str(data / "h"),
        RASA_TOKEN_FILE=str(data / "rasa-token"),
        SUPERVISE_MAX_BACKOFF="2",
    )
    env.pop("RASA_TOKEN", None)
    log = data / "supervise.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "scripts" / "supervise.py"), str(REPO_ROOT / "Procfile")],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = {"process": process, "ports": ports, "log": log, "data": data}
    try:
        base = f"http://127.0.0.1:{ports['handoff']}"
        wait_until(lambda: get_json(base + "/health")["rasa"], 300, "the stack did not come up", log)
        yield run
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        shutil.rmtree(data, ignore_errors=True)


def test_nothing_listens_beyond_loopback(made_run):
    found = listeners()
    for name, port in made_run["ports"].items():
        assert found.get(port) == {"127.0.0.1"}, (name, port, found.get(port))


def test_rasa_api_needs_the_token(made_run):
    token_file = made_run["data"] / "rasa-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    rasa = f"http://127.0.0.1:{made_run['ports']['rasa']}"
    assert http("PUT", rasa + "/model", b'{"model_file": "/tmp/evil.tar.gz"}') == 401
    assert http("PUT", rasa + "/model?token=wrong", b'{"model_file": "/tmp/evil.tar.gz"}') == 401
    assert http("DELETE", rasa + "/model") == 401
    assert http("GET", rasa + "/conversations/anyone/tracker") == 401
    assert http("POST", rasa + "/model/parse", b'{"text": "hi"}') == 401
    assert http("POST", rasa + f"/model/parse?token={token}", b'{"text": "hi"}') == 200
    assert http("POST", rasa + "/webhooks/rest/webhook", b'{"sender": "x", "message": "hi"}') == 404
    handoff = f"http://127.0.0.1:{made_run['ports']['handoff']}"
    assert get_json(handoff + "/health")["rasa"] is True  # the service found the same token


def test_the_action_server_waits_for_a_busy_rasa_to_write_its_request(made_run):
    """Sanic's default keeps a fresh connection 5 s without a request: a Rasa busy for longer found
    it closed, and the bot answered nothing (bench/chaos.py found it; the Procfile sets 75 s)."""
    with socket.create_connection(("127.0.0.1", made_run["ports"]["actions"]), timeout=10) as conn:
        time.sleep(7)  # connected, nothing written yet: a busy event loop
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = conn.recv(1024)
    assert answer.startswith(b"HTTP/1.1 200"), answer


def test_a_killed_process_is_restarted_and_ctrl_c_stops_all(made_run):
    ports, log = made_run["ports"], made_run["log"]
    redis_pid = int((made_run["data"] / "h" / "redis" / "redis.pid").read_text())
    # the embedded Redis was started by the service or the log writer (whichever came first): both die
    for name in ("actions", "handoff", "logwriter"):
        started = re.search(rf"started {name} \(pid (\d+)\)", log.read_text())
        os.killpg(int(started.group(1)), signal.SIGKILL)  # the supervisor starts each in its own group
    for name in ("actions", "handoff", "logwriter"):
        wait_until(
            lambda name=name: f"{name} was killed by signal 9; restarting" in log.read_text(),
            20,
            "no restart logged",
            log,
        )
    url = f"http://127.0.0.1:{ports['actions']}/health"
    wait_until(lambda: get_json(url)["status"] == "ok", 120, "actions not back", log)
    handoff = f"http://127.0.0.1:{ports['handoff']}/health"
    wait_until(lambda: get_json(handoff)["redis"], 120, "handoff not back", log)
    assert int((made_run["data"] / "h" / "redis" / "redis.pid").read_text()) == redis_pid  # reused
    process = made_run["process"]
    os.kill(process.pid, signal.SIGINT)
    assert process.wait(timeout=60) == 0
    assert "all processes stopped" in log.read_text()
    for _ in range(20):  # a listening socket closes with its process; give the kernel a moment
        still = {name: port for name, port in ports.items() if port in listeners()}
        if not still:
            break
        time.sleep(0.25)
    ss = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout if still else ""
    assert not still, (still, ss, log.read_text()[-3000:])
    # the embedded Redis too, although its owner was killed (adopted by the restarted process)
    stat_file = Path(f"/proc/{redis_pid}/stat")
    wait_until(
        lambda: not stat_file.exists() or stat_file.read_text().rsplit(")", 1)[1].split()[0] == "Z",
        15,
        f"redis-server {redis_pid} still running after Ctrl-C",
        log,
    )
