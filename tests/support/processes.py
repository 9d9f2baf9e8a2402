"""Start the project's real processes (translator, action server, Rasa) for tests."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
RASA_VENV = REPO_ROOT / ".venvs" / "rasa"
SVC_VENV = REPO_ROOT / ".venvs" / "svc"
MODEL = REPO_ROOT / os.environ.get("MODEL", "models/nimbus.tar.gz")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        RASA_TELEMETRY_ENABLED="false",
        PYTHONWARNINGS="ignore",
        TF_CPP_MIN_LOG_LEVEL="2",
        TRANSLATOR_PAIRS_TTL="0",
    )
    env.update(extra)
    return env


def get_json(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def post_json(url: str, payload: dict, timeout: float = 30.0) -> tuple:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8")
        try:
            return exc.code, json.loads(body)
        except ValueError:
            return exc.code, body


class Service:
    """A real process, started in its own session, stopped with SIGTERM."""

    def __init__(
        self,
        name: str,
        argv: List[str],
        health_url: str,
        env: Dict[str, str],
        log_dir: Path,
        startup_timeout: float = 180.0,
    ) -> None:
        self.name, self.argv, self.health_url = name, argv, health_url
        self.env, self.startup_timeout = env, startup_timeout
        self.log_path = log_dir / f"{name}.log"
        self.process: Optional[subprocess.Popen] = None
        self.token = ""  # Rasa's API token (rasa_service)

    def start(self) -> Service:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            try:
                get_json(self.health_url, timeout=2)
                return self
            except (urllib.error.URLError, OSError, ValueError):
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {self.health_url}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def translator_service(port: int, packages_dir: Path, log_dir: Path) -> Service:
    return Service(
        "translator",
        [str(SVC_VENV / "bin" / "python"), "-m", "translator.server", "--port", str(port)],
        f"http://127.0.0.1:{port}/health",
        base_env(ARGOS_PACKAGES_DIR=str(packages_dir)),
        log_dir,
        startup_timeout=60,
    )


def action_service(port: int, translator_url: str, log_dir: Path) -> Service:
    return Service(
        "actions",
        [str(RASA_VENV / "bin" / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)],
        f"http://127.0.0.1:{port}/health",
        base_env(TRANSLATOR_URL=translator_url, SANIC_HOST="127.0.0.1", SANIC_KEEP_ALIVE_TIMEOUT="75"),
        log_dir,
    )


def rasa_service(port: int, actions_port: int, translator_url: str, log_dir: Path) -> Service:
    """Rasa as `make run` starts it (scripts/rasa_serve.py: API behind a token, on 127.0.0.1), with a
    fresh token of its own (`service.token`; `api(service, path)` adds it to an API URL)."""
    endpoints = log_dir / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n')
    token = secrets.token_urlsafe(24)
    service = Service(
        "rasa",
        [
            str(RASA_VENV / "bin" / "python"),
            str(REPO_ROOT / "scripts" / "rasa_serve.py"),
            "--port",
            str(port),
            "--model",
            str(MODEL),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(REPO_ROOT / "credentials.yml"),
        ],
        f"http://127.0.0.1:{port}/status?token={token}",
        base_env(TRANSLATOR_URL=translator_url, RASA_TOKEN=token),
        log_dir,
        startup_timeout=240,
    )
    service.token = token
    return service


def start_bot(log_dir: Path, packages_dir: Path, services: List[Service]) -> Dict[str, str]:
    """The bot's side as `make run` starts it: the translator (models from `packages_dir`), the
    action server and Rasa with the trained model, each on a free loopback port. Each is appended to
    `services` once started, so the caller stops what did start even if a later one fails.
    Returns `translator_url`, `rasa_url` and `rasa_token`."""
    ports = {name: free_port() for name in ("translator", "actions", "rasa")}
    translator_url = f"http://127.0.0.1:{ports['translator']}"
    services.append(translator_service(ports["translator"], packages_dir, log_dir).start())
    services.append(action_service(ports["actions"], translator_url, log_dir).start())
    rasa = rasa_service(ports["rasa"], ports["actions"], translator_url, log_dir).start()
    services.append(rasa)
    return {
        "translator_url": translator_url,
        "rasa_url": f"http://127.0.0.1:{ports['rasa']}",
        "rasa_token": rasa.token,
    }


def api(url: str, token: str) -> str:
    """An URL of Rasa's HTTP API with its token."""
    return url + ("&" if "?" in url else "?") + "token=" + token


def build_test_models(out_dir: Path, pairs: List[tuple]) -> List[Path]:
    """Build tiny `.argosmodel` packages with the service environment (tests/support/argos_model.py)."""
    paths = []
    for source, target in pairs:
        result = subprocess.run(
            [
                str(SVC_VENV / "bin" / "python"),
                "-m",
                "tests.support.argos_model",
                "--from",
                source,
                "--to",
                target,
                "--out",
                str(out_dir),
            ],
            cwd=REPO_ROOT,
            env=base_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        paths.append(Path(result.stdout.strip().splitlines()[-1]))
    return paths


def install_models(paths: List[Path], packages_dir: Path) -> None:
    subprocess.run(
        [str(SVC_VENV / "bin" / "python"), "-m", "translator.install", *map(str, paths)],
        cwd=REPO_ROOT,
        env=base_env(ARGOS_PACKAGES_DIR=str(packages_dir)),
        check=True,
        capture_output=True,
    )
