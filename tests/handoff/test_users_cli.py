"""`python -m handoff.users` end to end: real processes, a real redis-server."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest
import redis
import redis.asyncio

from handoff import users
from handoff.agents import Agent, UserStore
from handoff.embedded_redis import EmbeddedRedis
from tests.support.processes import REPO_ROOT, base_env


def cli(args: List[str], env: Dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in base_env().items() if k not in ("REDIS_URL", "HANDOFF_DATA_DIR", "HANDOFF_SECRET")
    }
    return subprocess.run(
        [sys.executable, "-m", "handoff.users", *args],
        cwd=REPO_ROOT,
        env={**clean, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def authenticate(url: str, username: str, password: str) -> Optional[Agent]:
    async def run() -> Optional[Agent]:
        client = redis.asyncio.from_url(url, decode_responses=True)
        try:
            return await UserStore(client).authenticate(username, password)
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_add_list_set_passwd_remove(redis_url: str) -> None:
    env = {"REDIS_URL": redis_url}

    added = cli(
        ["add", "rina", "--role", "admin", "--languages", "bn,en", "--display-name", "রিনা", "--capacity", "4",
         "--password-stdin"],
        env,
        stdin="correct horse\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added admin rina" in added.stdout
    assert authenticate(redis_url, "rina", "correct horse") == Agent("rina", "রিনা", "admin", ("bn", "en"), 4)

    assert cli(["add", "sam", "--password-stdin"], env, stdin="another password").returncode == 0

    listed = cli(["list"], env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["USERNAME", "ROLE", "LANGUAGES", "CAPACITY", "DISPLAY", "NAME"]
    assert lines[1].split() == ["rina", "admin", "bn,en", "4", "রিনা"]
    assert lines[2].split() == ["sam", "agent", "en", "3", "sam"]

    changed = cli(["set", "sam", "--languages", "ml,en", "--capacity", "6"], env)
    assert changed.returncode == 0, changed.stderr
    as_json = json.loads(cli(["list", "--json"], env).stdout)
    assert as_json[1] == {"username": "sam", "display_name": "sam", "role": "agent", "languages": ["ml", "en"],
                          "capacity": 6}  # fmt: skip

    passwd = cli(["passwd", "sam", "--password-stdin"], env, stdin="a new password\r\n")
    assert passwd.returncode == 0, passwd.stderr
    assert authenticate(redis_url, "sam", "another password") is None
    assert authenticate(redis_url, "sam", "a new password") is not None

    removed = cli(["remove", "sam"], env)
    assert removed.returncode == 0 and "removed sam" in removed.stdout
    assert [agent["username"] for agent in json.loads(cli(["list", "--json"], env).stdout)] == ["rina"]


def seed(url: str) -> None:
    async def run() -> None:
        client = redis.asyncio.from_url(url, decode_responses=True)
        try:
            await UserStore(client).create("rina", "correct horse")
        finally:
            await client.aclose()

    asyncio.run(run())


def usernames(url: str) -> List[str]:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return sorted(client.smembers("users"))
    finally:
        client.close()


def test_failures_exit_with_their_codes_and_no_traceback(redis_url: str) -> None:
    env = {"REDIS_URL": redis_url}
    seed(redis_url)

    duplicate = cli(["add", "rina", "--password-stdin"], env, stdin="correct horse\n")
    assert duplicate.returncode == 1
    assert duplicate.stderr == "error: agent 'rina' already exists\n"

    bad_value = cli(
        ["add", "sam", "--languages", "english", "--password-stdin"], env, stdin="correct horse\n"
    )
    assert bad_value.returncode == 2
    assert bad_value.stderr.startswith("error: languages must be two-letter lowercase ISO 639-1 codes")
    assert usernames(redis_url) == ["rina"]


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (["add", "rina", "--password-stdin"], "correct horse\n", 1, "agent 'rina' already exists"),
        (["passwd", "ghost", "--password-stdin"], "correct horse\n", 1, "no agent 'ghost'"),
        (["remove", "ghost"], "", 1, "no agent 'ghost'"),
        (["set", "ghost", "--capacity", "2"], "", 1, "no agent 'ghost'"),
        (["add", "sam", "--password-stdin"], "short\n", 2, "at least 8 characters"),
        (["add", "sam", "--password-stdin"], "", 2, "at least 8 characters"),
        (["add", "sam", "--languages", "english", "--password-stdin"], "correct horse\n", 2, "ISO 639-1"),
        (["add", "Sam", "--password-stdin"], "correct horse\n", 2, "username must be"),
        (["add", "sam", "--display-name", " ", "--password-stdin"], "correct horse\n", 2, "display name"),
        (["set", "rina"], "", 2, "nothing to change"),
    ],
)
def test_errors_are_clear_and_change_nothing(
    redis_url: str, args: List[str], stdin: str, code: int, message: str
) -> None:
    """In-process (the same main() as the subprocesses run), to keep the suite fast."""
    seed(redis_url)
    out, err = io.StringIO(), io.StringIO()

    result = users.main(args, env={"REDIS_URL": redis_url}, stdin=io.StringIO(stdin), stdout=out, stderr=err)

    assert result == code
    assert err.getvalue().startswith("error: ") and message in err.getvalue()
    assert usernames(redis_url) == ["rina"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "sam", "--role", "owner"], "invalid choice: 'owner'"),
        (["add", "sam", "--capacity", "50"], "from 1 to 20"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_exit_2(args: List[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        users.main(args, env={})
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_redis_is_reported(short_tmp_dir: Path) -> None:
    for args in (["--redis-url", f"unix://{short_tmp_dir}/nothing.sock", "list"],
                 ["list", "--redis-url", f"unix://{short_tmp_dir}/nothing.sock"]):  # fmt: skip
        result = cli(args, {})
        assert result.returncode == 1
        assert "cannot reach Redis at unix://" in result.stderr
        assert "Traceback" not in result.stderr


def test_the_redis_url_option_beats_the_environment(redis_url: str, short_tmp_dir: Path) -> None:
    env = {"REDIS_URL": f"unix://{short_tmp_dir}/nothing.sock"}
    result = cli(["--redis-url", redis_url, "add", "rina", "--password-stdin"], env, stdin="correct horse\n")
    assert result.returncode == 0, result.stderr
    assert authenticate(redis_url, "rina", "correct horse") is not None


def test_without_redis_url_the_embedded_server_is_started_and_stopped(short_tmp_dir: Path) -> None:
    env = {"HANDOFF_DATA_DIR": str(short_tmp_dir)}

    added = cli(["add", "rina", "--languages", "ml", "--password-stdin"], env, stdin="correct horse\n")
    assert added.returncode == 0, added.stderr
    assert not (short_tmp_dir / "redis" / "redis.pid").exists()  # stopped: a clean shutdown removes it
    assert (short_tmp_dir / "redis" / "appendonly.aof").exists()

    listed = cli(["list", "--json"], env)  # a second process: a new server, the same data
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["languages"] == ["ml"]


def test_a_running_embedded_server_is_reused_and_left_running(
    embedded_factory: Callable[..., EmbeddedRedis], short_tmp_dir: Path
) -> None:
    """As when the service runs: its server is `<HANDOFF_DATA_DIR>/redis` (handoff/app.py)."""
    server = embedded_factory("redis")
    server.start()
    env = {"HANDOFF_DATA_DIR": str(short_tmp_dir)}

    added = cli(["add", "rina", "--password-stdin"], env, stdin="correct horse\n")

    assert added.returncode == 0, added.stderr
    assert server.is_running()
    client = redis.Redis.from_url(server.url, decode_responses=True)
    try:
        assert client.smembers("users") == {"rina"}
    finally:
        client.close()


def test_the_password_prompt_asks_twice(redis_url: str) -> None:
    """In-process, with a scripted prompt standing in for the terminal."""
    answers = iter(["correct horse", "correct horse", "correct horse", "typo horse"])
    prompts: List[str] = []

    def prompt(text: str) -> str:
        prompts.append(text)
        return next(answers)

    out, err = io.StringIO(), io.StringIO()
    env = {"REDIS_URL": redis_url}
    assert users.main(["add", "rina"], env=env, stdout=out, stderr=err, prompt=prompt) == 0, err.getvalue()
    assert prompts == ["Password: ", "Password again: "]
    assert users.main(["passwd", "rina"], env=env, stdout=out, stderr=err, prompt=prompt) == 2
    assert "do not match" in err.getvalue()
    assert authenticate(redis_url, "rina", "correct horse") is not None
