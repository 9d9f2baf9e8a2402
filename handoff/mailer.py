"""Email: a real SMTP client (the standard library's smtplib, in a worker thread), configured by
`SMTP_URL` (handoff/config.py):

    smtp://[user:password@]host[:port][?from=support@shop.example]        plain (port 25)
    smtp+starttls://user:password@host[:587][?from=...]                      STARTTLS
    smtps://user:password@host[:465][?from=...]                              TLS from the start

Without `SMTP_URL` the mailer is not configured: `send` raises `MailUnavailable` and the console and
the widget say so. Every message is checked first (address, subject and body sizes).
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

MAX_ADDRESS = 254
MAX_SUBJECT = 200
MAX_BODY = 100_000  # characters
TIMEOUT = 15.0
ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailUnavailable(RuntimeError):
    """No SMTP server is configured, or it refused or could not be reached."""


class BadMail(ValueError):
    """The message itself is wrong (address, sizes)."""


def is_address(value: str) -> bool:
    return isinstance(value, str) and len(value) <= MAX_ADDRESS and bool(ADDRESS.match(value.strip()))


@dataclass(frozen=True)
class SmtpConfig:
    scheme: str
    host: str
    port: int
    username: Optional[str]
    password: Optional[str]
    sender: str

    @classmethod
    def parse(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError("SMTP_URL must be smtp://, smtp+starttls:// or smtps://host[:port]")
        sender = (parse_qs(parts.query).get("from") or ["nimbus@localhost"])[0]
        if not is_address(sender):
            raise ValueError("SMTP_URL's from= is not an email address")
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender,
        )


class Mailer:
    def __init__(self, url: Optional[str]) -> None:
        self.config = SmtpConfig.parse(url) if url else None

    @property
    def configured(self) -> bool:
        return self.config is not None

    async def send(self, to: str, subject: str, body: str, reply_to: Optional[str] = None) -> None:
        if self.config is None:
            raise MailUnavailable("email is not set up on this service (SMTP_URL)")
        if not is_address(to):
            raise BadMail("not an email address")
        if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
            raise BadMail(f"the subject is over {MAX_SUBJECT} or the text over {MAX_BODY} characters")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.config.sender, to.strip(), subject
        if reply_to and is_address(reply_to):
            message["Reply-To"] = reply_to
        message.set_content(body)
        await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        config = self.config
        assert config is not None
        try:
            if config.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    config.host, config.port, timeout=TIMEOUT, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT)
            with client:
                if config.scheme == "smtp+starttls":
                    client.starttls(context=ssl.create_default_context())
                if config.username:
                    client.login(config.username, config.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnavailable(f"the mail server did not take the message ({type(exc).__name__})") from exc
