"""The token of Rasa's HTTP API (`rasa run --auth-token`), shared by everyone who calls that API.

`RASA_TOKEN` when set; otherwise the token kept in `var/rasa-token` (`RASA_TOKEN_FILE` moves it),
created on first use, mode 0600. The Rasa launcher (scripts/rasa_serve.py), the handoff service
(its health check), the privacy tools (trackers) and the benchmarks all call `rasa_token()`, so
whoever starts first creates the file and the others read the same token.

Standard library only: the Rasa environment imports this module too (no I/O at import).
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Mapping, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = "var/rasa-token"


def token_file(env: Optional[Mapping[str, str]] = None) -> Path:
    env = os.environ if env is None else env
    path = Path(env.get("RASA_TOKEN_FILE") or DEFAULT_FILE)
    return path if path.is_absolute() else REPO_ROOT / path


def _read(path: Path) -> str:
    for _ in range(50):  # another process may be between creating the name and nothing else
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it or set RASA_TOKEN")


def rasa_token(env: Optional[Mapping[str, str]] = None) -> str:
    """RASA_TOKEN, or the token in the token file (created atomically when missing)."""
    env = os.environ if env is None else env
    return resolve_token(env.get("RASA_TOKEN"), token_file(env))


def resolve_token(explicit: Optional[str], path: Path) -> str:
    """`explicit` when set, else the token in `path` (created atomically when missing)."""
    if explicit and explicit.strip():
        return explicit.strip()
    if path.exists():
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(temporary, path)  # complete file under the name, or someone else's was first
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)
