"""Passwords, tokens, the secret file, and agents in a real Redis."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import threading
import unicodedata
from pathlib import Path
from typing import List

import pytest
import redis.asyncio

from handoff.agents import Agent, UnknownUser, UserExists, UserStore
from handoff.passwords import hash_password, verify_password
from handoff.tokens import InvalidToken, TokenSigner, load_secret

SECRET = b"s" * 32

# --- passwords -----------------------------------------------------------------


def test_a_password_verifies_against_its_hash_and_nothing_else() -> None:
    stored = hash_password("correct horse")

    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert not verify_password("Correct horse", stored)
    assert not verify_password("", stored)


def test_the_hash_names_its_scrypt_parameters_and_a_random_salt() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")

    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 32
    assert first != second  # a fresh salt each time
    assert verify_password("correct horse", second)


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 8 characters"):
        hash_password("1234567")
    assert verify_password("12345678", hash_password("12345678"))


def test_a_password_matches_in_any_unicode_normal_form() -> None:
    password = "ভৌগোলিক-১২৩"  # Bengali two-part vowel signs: NFC and NFD differ
    decomposed = unicodedata.normalize("NFD", password)
    assert decomposed != password == unicodedata.normalize("NFC", password)

    assert verify_password(decomposed, hash_password(password))
    assert verify_password(password, hash_password(decomposed))


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain text",
        "bcrypt$16384$8$1$c2FsdA==$aGFzaA==",
        "scrypt$1000$8$1$c2FsdA==$aGFzaA==",  # n not a power of two
        "scrypt$16384$8$1$not base64$aGFzaA==",
        "scrypt$16384$8$1$c2FsdA==$",
        "scrypt$16384$8$c2FsdA==$aGFzaA==",
    ],
)
def test_a_malformed_stored_hash_verifies_nothing(stored: str) -> None:
    assert verify_password("correct horse", stored) is False


def test_a_hash_with_other_parameters_still_verifies() -> None:
    """Parameters travel with the hash, so they can be raised later."""
    import hashlib

    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"correct horse", salt=salt, n=2**15, r=8, p=1, dklen=64, maxmem=2**27)
    stored = f"scrypt$32768$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"

    assert verify_password("correct horse", stored)
    assert not verify_password("wrong horse", stored)


# --- tokens --------------------------------------------------------------------


class Clock:
    def __init__(self, now: float = 1_795_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _decode(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_token_round_trips_its_subject_kind_times_and_claims() -> None:
    clock = Clock()
    signer = TokenSigner(SECRET, clock=clock)

    token = signer.issue("rina", "agent", 3600, role="admin")
    payload = signer.verify(token, "agent")

    assert payload == {
        "sub": "rina",
        "kind": "agent",
        "iat": 1_795_000_000,
        "exp": 1_795_003_600,
        "role": "admin",
    }
    assert token.count(".") == 1
    assert (
        TokenSigner(SECRET).verify(TokenSigner(SECRET).issue("v_1", "visitor", 60), "visitor")["sub"] == "v_1"
    )


def test_a_token_expires() -> None:
    clock = Clock()
    signer = TokenSigner(SECRET, clock=clock)
    token = signer.issue("rina", "agent", 60)

    clock.now += 59.9
    assert signer.verify(token, "agent")["sub"] == "rina"
    clock.now += 0.1
    with pytest.raises(InvalidToken) as error:
        signer.verify(token, "agent")
    assert error.value.reason == "expired"


def test_a_visitor_token_does_not_open_the_agent_namespace() -> None:
    signer = TokenSigner(SECRET)
    with pytest.raises(InvalidToken) as error:
        signer.verify(signer.issue("v_1", "visitor", 60), "agent")
    assert error.value.reason == "wrong_kind"
    with pytest.raises(InvalidToken, match="wrong_kind"):
        signer.verify(signer.issue("rina", "agent", 60), "visitor")


def test_a_token_signed_with_another_secret_is_rejected() -> None:
    forged = TokenSigner(b"x" * 32).issue("rina", "agent", 3600, role="admin")
    with pytest.raises(InvalidToken) as error:
        TokenSigner(SECRET).verify(forged, "agent")
    assert error.value.reason == "bad_signature"


def test_a_tampered_payload_is_rejected() -> None:
    signer = TokenSigner(SECRET)
    payload_b64, signature = signer.issue("sam", "agent", 3600, role="agent").split(".")
    payload = _decode(payload_b64)
    payload["role"] = "admin"
    tampered = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()

    with pytest.raises(InvalidToken) as error:
        signer.verify(f"{tampered}.{signature}", "agent")
    assert error.value.reason == "bad_signature"


def test_a_changed_signature_is_rejected() -> None:
    signer = TokenSigner(SECRET)
    token = signer.issue("sam", "agent", 3600)
    last = token[-1]
    flipped = token[:-1] + ("A" if last != "A" else "B")
    with pytest.raises(InvalidToken, match="bad_signature"):
        signer.verify(flipped, "agent")


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b.c", "a.", ".b", "a b.c", "a=.b", "x" * 5000 + ".y", None, 12],
)
def test_malformed_tokens_are_rejected(token: object) -> None:
    with pytest.raises(InvalidToken) as error:
        TokenSigner(SECRET).verify(token, "agent")  # type: ignore[arg-type]
    assert error.value.reason in {"malformed", "bad_signature"}


def test_a_validly_signed_payload_that_is_not_a_token_is_malformed() -> None:
    """Only the secret's holder could make one, but it must not crash verify()."""
    signer = TokenSigner(SECRET)
    payload_b64 = base64.urlsafe_b64encode(b"[1, 2]").rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="malformed"):
        signer.verify(f"{payload_b64}.{signer._sign(payload_b64)}", "agent")


def test_issue_refuses_bad_arguments() -> None:
    signer = TokenSigner(SECRET)
    with pytest.raises(ValueError, match="kind"):
        signer.issue("rina", "admin", 60)
    with pytest.raises(ValueError, match="ttl_seconds"):
        signer.issue("rina", "agent", 0)
    with pytest.raises(ValueError, match="reserved"):
        signer.issue("rina", "agent", 60, exp=9_999_999_999)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenSigner(b"short")


# --- the secret ----------------------------------------------------------------


def test_the_environment_secret_wins(tmp_path: Path) -> None:
    assert load_secret("e" * 32, tmp_path / "data") == b"e" * 32
    assert not (tmp_path / "data").exists()


def test_a_short_environment_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        load_secret("e" * 31, tmp_path)


def test_the_secret_file_is_made_once_and_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "var" / "handoff"
    secret = load_secret(None, data_dir)

    path = data_dir / "handoff-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret) == 64 and bytes.fromhex(secret.decode())
    assert load_secret("", data_dir) == secret  # an empty variable means unset
    assert load_secret(None, tmp_path / "other") != secret
    assert sorted(os.listdir(data_dir)) == ["handoff-secret"]  # no temporary files left


def test_processes_racing_to_make_the_secret_agree(tmp_path: Path) -> None:
    results: List[bytes] = []
    barrier = threading.Barrier(8)

    def load() -> None:
        barrier.wait()
        results.append(load_secret(None, tmp_path))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1


def test_a_truncated_secret_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "handoff-secret").write_text("abc\n")
    with pytest.raises(ValueError, match="fewer than 32 characters"):
        load_secret(None, tmp_path)


# --- agents --------------------------------------------------------------------


def test_agent_to_wire_is_the_protocol_object() -> None:
    agent = Agent("rina", "Rina", "admin", ("bn", "en"), 4)
    assert agent.to_wire() == {
        "username": "rina",
        "display_name": "Rina",
        "role": "admin",
        "languages": ["bn", "en"],
        "capacity": 4,
    }


@pytest.fixture
def store(redis_client: redis.asyncio.Redis) -> UserStore:
    return UserStore(redis_client)


@pytest.mark.asyncio
async def test_create_stores_the_agent_in_the_documented_keys(
    store: UserStore, redis_client: redis.asyncio.Redis
) -> None:
    agent = await store.create(
        "rina", "correct horse", role="admin", languages=("bn", "en"), display_name="Rina", capacity=4
    )

    assert agent == Agent("rina", "Rina", "admin", ("bn", "en"), 4)
    fields = await redis_client.hgetall("user:rina")
    assert set(fields) == {"password_hash", "role", "languages", "display_name", "capacity"}
    assert fields["languages"] == "bn,en" and fields["capacity"] == "4" and fields["role"] == "admin"
    assert verify_password("correct horse", fields["password_hash"])
    assert await redis_client.smembers("users") == {"rina"}
    assert await store.get("rina") == agent


@pytest.mark.asyncio
async def test_create_defaults(store: UserStore) -> None:
    agent = await store.create("sam", "correct horse")
    assert agent == Agent("sam", "sam", "agent", ("en",), 3)
    assert await store.get("sam") == agent


@pytest.mark.asyncio
async def test_a_username_is_taken_once(store: UserStore) -> None:
    await store.create("rina", "correct horse")
    with pytest.raises(UserExists):
        await store.create("rina", "another password")
    assert await store.authenticate("rina", "correct horse") is not None


@pytest.mark.asyncio
async def test_concurrent_creates_of_one_username_let_exactly_one_win(store: UserStore) -> None:
    results = await asyncio.gather(
        *(store.create("rina", f"password-{i}") for i in range(4)), return_exceptions=True
    )
    assert sum(isinstance(result, Agent) for result in results) == 1
    assert sum(isinstance(result, UserExists) for result in results) == 3


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"username": "Rina"}, "username"),
        ({"username": "r"}, "username"),
        ({"username": "rina\n"}, "username"),
        ({"username": "a" * 33}, "username"),
        ({"username": "rina smith"}, "username"),
        ({"role": "owner"}, "role"),
        ({"languages": ()}, "at least one language"),
        ({"languages": ("english",)}, "ISO 639-1"),
        ({"languages": ("EN",)}, "ISO 639-1"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 21}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"display_name": "   "}, "display name"),
        ({"display_name": "x" * 65}, "display name"),
        ({"display_name": "Rina\x07"}, "control"),
        ({"password": "short"}, "at least 8"),
    ],
)
async def test_create_validates_every_field(
    store: UserStore, redis_client: redis.asyncio.Redis, kwargs: dict, message: str
) -> None:
    arguments = {"username": "rina", "password": "correct horse", **kwargs}
    with pytest.raises(ValueError, match=message):
        await store.create(**arguments)
    assert await redis_client.keys("*") == []


@pytest.mark.asyncio
async def test_languages_are_deduplicated_in_order_and_accept_a_comma_string(store: UserStore) -> None:
    agent = await store.create("rina", "correct horse", languages="bn, en,bn,ml")
    assert agent.languages == ("bn", "en", "ml")


@pytest.mark.asyncio
async def test_authenticate(store: UserStore) -> None:
    created = await store.create("rina", "correct horse", languages=("bn",))

    assert await store.authenticate("rina", "correct horse") == created
    assert await store.authenticate("rina", "wrong horse!") is None
    assert await store.authenticate("nobody", "correct horse") is None
    assert await store.authenticate("NOT VALID", "correct horse") is None
    assert await store.authenticate("rina", "") is None


@pytest.mark.asyncio
async def test_list_is_sorted_and_skips_dangling_names(
    store: UserStore, redis_client: redis.asyncio.Redis
) -> None:
    assert await store.list() == []
    for name in ("zoe", "amal", "rina"):
        await store.create(name, "correct horse")
    await redis_client.sadd("users", "ghost")

    assert [agent.username for agent in await store.list()] == ["amal", "rina", "zoe"]


@pytest.mark.asyncio
async def test_update_changes_only_the_given_fields(store: UserStore) -> None:
    await store.create("rina", "correct horse", languages=("bn",), display_name="Rina", capacity=2)

    agent = await store.update("rina", languages=("bn", "ml"), capacity=5)
    assert agent == Agent("rina", "Rina", "agent", ("bn", "ml"), 5)
    agent = await store.update("rina", display_name="Rina A.", role="admin")
    assert agent == Agent("rina", "Rina A.", "admin", ("bn", "ml"), 5)
    assert await store.get("rina") == agent
    assert await store.update("rina") == agent  # nothing to change

    await store.update("rina", password="new password")
    assert await store.authenticate("rina", "correct horse") is None
    assert await store.authenticate("rina", "new password") == Agent(
        "rina", "Rina A.", "admin", ("bn", "ml"), 5, token_version=1
    )  # a password change revokes the tokens issued before it


@pytest.mark.asyncio
async def test_update_validates_and_never_creates(
    store: UserStore, redis_client: redis.asyncio.Redis
) -> None:
    await store.create("rina", "correct horse")
    with pytest.raises(ValueError, match="capacity"):
        await store.update("rina", capacity=99)
    with pytest.raises(ValueError, match="at least 8"):
        await store.update("rina", password="short")
    assert (await store.get("rina")).capacity == 3  # type: ignore[union-attr]

    with pytest.raises(UnknownUser):
        await store.update("ghost", capacity=2)
    with pytest.raises(UnknownUser):
        await store.update("ghost")
    assert await redis_client.exists("user:ghost") == 0


@pytest.mark.asyncio
async def test_delete(store: UserStore, redis_client: redis.asyncio.Redis) -> None:
    await store.create("rina", "correct horse")
    await store.create("sam", "correct horse")

    assert await store.delete("rina") is True
    assert await store.delete("rina") is False
    assert await store.delete("Not Valid") is False
    assert await store.get("rina") is None
    assert await store.authenticate("rina", "correct horse") is None
    assert await redis_client.smembers("users") == {"sam"}
    assert await redis_client.exists("user:rina") == 0
