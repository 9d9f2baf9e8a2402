"""The handoff service's settings, read from the environment only (no files, no I/O at import).

| variable | default | meaning |
|---|---|---|
| `HANDOFF_HOST` / `HANDOFF_PORT` | 127.0.0.1 / 8080 | where the service listens |
| `REDIS_URL` | (embedded) | a Redis server; without it the service starts its own (handoff/embedded_redis.py) |
| `HANDOFF_DATA_DIR` | var/handoff | embedded Redis data, the token secret |
| `RASA_URL` | http://127.0.0.1:5005 | the Rasa server (the `handoff` channel, bot/channels.py) |
| `RASA_TOKEN` / `RASA_TOKEN_FILE` | (file) / var/rasa-token | token of Rasa's HTTP API (handoff/rasa_token.py) |
| `TRANSLATOR_URL` | http://127.0.0.1:5070 | the translator service (translator/server.py) |
| `HANDOFF_SECRET` | (file in the data dir) | HMAC key for agent and visitor tokens, >= 32 characters |
| `HANDOFF_TOKEN_TTL` | 43200 | agent token lifetime, seconds |
| `HANDOFF_ROUTE_ALL_AFTER` | 60 | seconds before a queued chat is offered to agents of any language |
| `HANDOFF_AGENT_GRACE` | 60 | seconds an agent's chats stay theirs after their last socket goes |
| `HANDOFF_DEFAULT_WAIT` | 120 | assumed wait per queue position before any wait was measured |
| `HANDOFF_HOURS` / `HANDOFF_TZ` | always open / UTC | opening hours, e.g. `mon-fri 09:00-17:00` |
| `HANDOFF_CONSOLE_DIR` | build/widget | built front-end (agent console) |
| `HANDOFF_CANNED_REPLIES` | data/handoff/canned_replies.yml | canned replies per language |
| `HANDOFF_CORS_ORIGINS` | (same origin) | other origins allowed to open sockets, comma-separated (`*`: any) |
| `HANDOFF_LIMIT_<NAME>` | see docs/security.md | rate limits and quotas (handoff/quotas.py), e.g. `2/second;30/minute`, `0` = off |
| `HANDOFF_MAX_MESSAGES` | 1000 | messages a conversation may hold; a visitor's next one is refused (`conversation_full`), 0 = no cap |
| `HANDOFF_ANONYMOUS_VISITOR_TTL` | 604800 | seconds a visitor record without a conversation is kept after its last connect (0 = kept) |
| `HANDOFF_FORWARDED_FOR` | 0 | 1: the client address is the right-most X-Forwarded-For entry (behind your proxy) |
| `HANDOFF_QUEUE_ABANDON` | 180 | seconds a queued visitor may be without a socket before the chat is abandoned |
| `HANDOFF_RASA_TIMEOUT` | 30 | seconds to wait for the bot's answer |
| `HANDOFF_BOT_IDLE` | 1800 | seconds after which a conversation left with the bot ends (the next message is a new contact) |
| `HANDOFF_IDENTITY_SECRET` | (none) | key the host site signs customer ids with (identity verification) |
| `DATABASE_URL` | sqlite file `<data dir>/log.db` | the SQL conversation log (handoff/analytics), e.g. `postgresql+psycopg://user@host/db` |
| `HANDOFF_RETENTION_DAYS` | 0 (keep) | transcripts older than this are anonymised or deleted (handoff/analytics/privacy.py) |
| `HANDOFF_RETENTION_MODE` | anonymise | `anonymise` (keep the conversation rows, drop texts) or `delete` |
| `SMTP_URL` | (none: no email) | the mail server, e.g. `smtp+starttls://user:pass@mail.example:587?from=support@shop.example` (handoff/mailer.py) |
| `HANDOFF_FCR_WINDOW_DAYS` | 7 | FCR: days without a repeat contact on the same topic (docs/metrics.md) |
| `HANDOFF_ATTACHMENTS_DIR` | `<data dir>/attachments` | where attachments are stored (handoff/attachments/storage.py) |
| `HANDOFF_ATTACHMENT_MAX_BYTES` | 5242880 | largest file a visitor or agent may upload (5 MiB) |
| `HANDOFF_ATTACHMENT_MAX_PIXELS` | 40000000 | largest image, in pixels (decompression bombs are refused) |
| `HANDOFF_ATTACHMENTS_PER_CONVERSATION` | 20 | files one conversation may hold (0 = no cap) |
| `HANDOFF_ATTACHMENT_LINK_TTL` | 900 | seconds a signed download link stays valid |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Optional, Tuple

from handoff.quotas import QUOTAS
from handoff.quotas import settings_from_env as quota_settings
from handoff.rasa_token import DEFAULT_FILE as DEFAULT_TOKEN_FILE
from handoff.rasa_token import resolve_token

REPO_ROOT = Path(__file__).resolve().parent.parent


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "")
    if not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _path(env: Mapping[str, str], name: str, default: str) -> Path:
    path = Path(env.get(name) or default)
    return path if path.is_absolute() else REPO_ROOT / path


def _choice(env: Mapping[str, str], name: str, choices: Tuple[str, ...]) -> str:
    raw = (env.get(name) or choices[0]).strip().lower()
    if raw not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    redis_url: Optional[str] = None
    data_dir: Path = REPO_ROOT / "var" / "handoff"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: Optional[str] = None
    rasa_token_file: Path = REPO_ROOT / DEFAULT_TOKEN_FILE
    translator_url: str = "http://127.0.0.1:5070"
    secret: Optional[str] = None
    token_ttl: int = 12 * 3600
    route_all_after: int = 60
    agent_grace: int = 60
    default_wait: int = 120
    hours: str = ""
    timezone: str = "UTC"
    console_dir: Path = REPO_ROOT / "build" / "widget"
    canned_replies: Path = REPO_ROOT / "data" / "handoff" / "canned_replies.yml"
    cors_origins: Tuple[str, ...] = ()  # () = same origin only (the widget's iframe is served here)
    rasa_timeout: int = 30
    identity_secret: Optional[str] = None
    bot_idle: int = 1800
    queue_abandon: int = 180
    sweep_interval: float = 2.0
    database_url_setting: Optional[str] = None
    retention_days: int = 0
    retention_mode: str = "anonymise"
    fcr_window_days: int = 7
    smtp_url: Optional[str] = None
    limits: Tuple[Tuple[str, str], ...] = tuple((q.name, q.default) for q in QUOTAS)
    forwarded_for: bool = False
    max_messages: int = 1000
    anonymous_visitor_ttl: int = 7 * 86400
    attachments_dir: Optional[Path] = None  # None: <data dir>/attachments
    attachment_max_bytes: int = 5 * 1024 * 1024
    attachment_max_pixels: int = 40_000_000
    attachments_per_conversation: int = 20
    attachment_link_ttl: int = 900

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Settings:
        env = os.environ if env is None else env
        origins = tuple(o.strip() for o in env.get("HANDOFF_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            host=env.get("HANDOFF_HOST") or "127.0.0.1",
            port=_int(env, "HANDOFF_PORT", 8080, 1),
            redis_url=env.get("REDIS_URL") or None,
            data_dir=_path(env, "HANDOFF_DATA_DIR", "var/handoff"),
            rasa_url=(env.get("RASA_URL") or "http://127.0.0.1:5005").rstrip("/"),
            rasa_token=env.get("RASA_TOKEN") or None,
            rasa_token_file=_path(env, "RASA_TOKEN_FILE", DEFAULT_TOKEN_FILE),
            translator_url=(env.get("TRANSLATOR_URL") or "http://127.0.0.1:5070").rstrip("/"),
            secret=env.get("HANDOFF_SECRET") or None,
            token_ttl=_int(env, "HANDOFF_TOKEN_TTL", 12 * 3600, 60),
            route_all_after=_int(env, "HANDOFF_ROUTE_ALL_AFTER", 60),
            agent_grace=_int(env, "HANDOFF_AGENT_GRACE", 60),
            default_wait=_int(env, "HANDOFF_DEFAULT_WAIT", 120, 1),
            hours=env.get("HANDOFF_HOURS", ""),
            timezone=env.get("HANDOFF_TZ") or "UTC",
            console_dir=_path(env, "HANDOFF_CONSOLE_DIR", "build/widget"),
            canned_replies=_path(env, "HANDOFF_CANNED_REPLIES", "data/handoff/canned_replies.yml"),
            cors_origins=origins,
            rasa_timeout=_int(env, "HANDOFF_RASA_TIMEOUT", 30, 1),
            identity_secret=env.get("HANDOFF_IDENTITY_SECRET") or None,
            bot_idle=_int(env, "HANDOFF_BOT_IDLE", 1800, 1),
            queue_abandon=_int(env, "HANDOFF_QUEUE_ABANDON", 180, 1),
            database_url_setting=env.get("DATABASE_URL") or None,
            retention_days=_int(env, "HANDOFF_RETENTION_DAYS", 0),
            retention_mode=_choice(env, "HANDOFF_RETENTION_MODE", ("anonymise", "delete")),
            fcr_window_days=_int(env, "HANDOFF_FCR_WINDOW_DAYS", 7, 1),
            smtp_url=env.get("SMTP_URL") or None,
            limits=quota_settings(env),
            max_messages=_int(env, "HANDOFF_MAX_MESSAGES", 1000),
            anonymous_visitor_ttl=_int(env, "HANDOFF_ANONYMOUS_VISITOR_TTL", 7 * 86400),
            forwarded_for=_choice(env, "HANDOFF_FORWARDED_FOR", ("0", "1")) == "1",
            attachments_dir=_path(env, "HANDOFF_ATTACHMENTS_DIR", "")
            if env.get("HANDOFF_ATTACHMENTS_DIR")
            else None,
            attachment_max_bytes=_int(env, "HANDOFF_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024, 1024),
            attachment_max_pixels=_int(env, "HANDOFF_ATTACHMENT_MAX_PIXELS", 40_000_000, 10_000),
            attachments_per_conversation=_int(env, "HANDOFF_ATTACHMENTS_PER_CONVERSATION", 20),
            attachment_link_ttl=_int(env, "HANDOFF_ATTACHMENT_LINK_TTL", 900, 10),
        )

    @property
    def database_url(self) -> str:
        """DATABASE_URL, or an SQLite file in the data folder (nothing to install)."""
        return self.database_url_setting or f"sqlite:///{self.data_dir / 'log.db'}"

    def resolved_rasa_token(self) -> str:
        """RASA_TOKEN, or the shared token file's (created when missing: I/O, call it at start-up)."""
        return resolve_token(self.rasa_token, self.rasa_token_file)

    @property
    def attachment_dir(self) -> Path:
        """HANDOFF_ATTACHMENTS_DIR, or `attachments` in the data folder."""
        return self.attachments_dir or self.data_dir / "attachments"

    @property
    def embedded_redis_dir(self) -> Path:
        """Where the embedded Redis keeps its socket and data (shared by the service and the users CLI)."""
        return self.data_dir / "redis"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)
