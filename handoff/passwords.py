"""Agents' passwords: scrypt hashes (`scrypt$n$r$p$salt$hash`).

A memory-hard function, in the standard library, with its parameters in the stored string so they
can be raised later without breaking existing hashes. Hashing takes about 50 ms of CPU on purpose;
handoff/agents.py runs it in a thread so the event loop keeps serving sockets meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets
import unicodedata

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_DKLEN = 32
SALT_BYTES = 16
MIN_PASSWORD_LENGTH = 8


def _password_bytes(password: str) -> bytes:
    """NFC-normalised UTF-8: the same Bengali or Malayalam password typed on two
    keyboards can arrive in different Unicode normal forms."""
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL's default memory cap (32 MiB) is just above what n=2**14, r=8
    # needs; size it from the parameters so stronger stored hashes still verify.
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem)


def hash_password(password: str) -> str:
    """`scrypt$16384$8$1$<salt b64>$<hash b64>` with a fresh random salt.

    Raises ValueError for passwords shorter than 8 characters.
    """
    if len(unicodedata.normalize("NFC", password)) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(_password_bytes(password), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN)
    return "$".join(
        [
            "scrypt",
            str(SCRYPT_N),
            str(SCRYPT_R),
            str(SCRYPT_P),
            base64.b64encode(salt).decode("ascii"),
            base64.b64encode(digest).decode("ascii"),
        ]
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a `hash_password` string (constant-time compare).

    A malformed stored value verifies nothing (False) rather than raising: a
    login attempt must never turn into a server error.
    """
    try:
        scheme, n_s, r_s, p_s, salt_b64, hash_b64 = stored.split("$")
        n, r, p = int(n_s), int(r_s), int(p_s)
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(hash_b64, validate=True)
    except (AttributeError, ValueError, binascii.Error):
        return False
    if scheme != "scrypt" or n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or not expected:
        return False
    try:
        actual = _scrypt(_password_bytes(password), salt, n, r, p, len(expected))
    except (TypeError, ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against for unknown usernames (made on first use, not at import)."""
    return hash_password(secrets.token_urlsafe(16))
