"""Manage agents from the command line: `python -m handoff.users add|list|passwd|remove|set`.

    python -m handoff.users add rina --role admin --languages bn,en --display-name "Rina" --capacity 3
    echo 'a long password' | python -m handoff.users add sam --password-stdin
    python -m handoff.users list [--json]
    python -m handoff.users passwd rina
    python -m handoff.users set rina --languages bn,en,ml --capacity 5
    python -m handoff.users remove sam

Redis: `--redis-url`, else `REDIS_URL`, else the embedded server in
`<HANDOFF_DATA_DIR>/redis` (default var/handoff/redis; the directory is
resolved by handoff/config.py and the `redis` subdirectory is the one
handoff/app.py uses), so the CLI edits the agents the service sees. If the
service is running, its embedded server is reused; otherwise one is started
for the command and stopped afterwards.

Exit codes: 0 done, 1 failed (user exists, no such user, Redis unreachable),
2 bad arguments or values.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from typing import Callable, List, Mapping, Optional, Sequence, TextIO

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from handoff.agents import (
    MAX_CAPACITY,
    MIN_CAPACITY,
    ROLES,
    Agent,
    UnknownUser,
    UserExists,
    UserStore,
    validate_capacity,
    validate_display_name,
    validate_languages,
    validate_role,
    validate_username,
)
from handoff.config import Settings
from handoff.embedded_redis import EmbeddedRedis, resolve_redis_url
from handoff.passwords import MIN_PASSWORD_LENGTH

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# Where the service keeps its embedded Redis inside HANDOFF_DATA_DIR (handoff/app.py
# main()): the CLI must open the very same server, so keep the two in step.


class CommandError(Exception):
    """A failure to report on stderr with an exit code (no traceback)."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def _capacity(text: str) -> int:
    try:
        return validate_capacity(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an integer from {MIN_CAPACITY} to {MAX_CAPACITY}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m handoff.users",
        description="Manage the agents who answer handed-off chats.",
    )
    redis_help = "Redis URL (default: REDIS_URL, else the embedded server)"
    parser.add_argument("--redis-url", help=redis_help)
    # Also accepted after the command (`list --redis-url ...`); SUPPRESS keeps
    # the subcommand from overwriting a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--redis-url", default=argparse.SUPPRESS, help=redis_help)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add = commands.add_parser("add", parents=[common], help="add an agent")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="agent")
    add.add_argument(
        "--languages", default="en", help="comma-separated ISO 639-1 codes, main first (default en)"
    )
    add.add_argument("--display-name", help="the name visitors see (default: NAME)")
    add.add_argument("--capacity", type=_capacity, default=3, help="chats at once (default 3)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")

    listing = commands.add_parser("list", parents=[common], help="list the agents")
    listing.add_argument("--json", action="store_true", help="print JSON (the protocol's agent objects)")

    passwd = commands.add_parser("passwd", parents=[common], help="set an agent's password")
    passwd.add_argument("name")
    passwd.add_argument(
        "--password-stdin", action="store_true", help="read the password from one line of stdin"
    )

    remove = commands.add_parser("remove", parents=[common], help="remove an agent")
    remove.add_argument("name")

    change = commands.add_parser(
        "set", parents=[common], help="change an agent's languages, capacity, name or role"
    )
    change.add_argument("name")
    change.add_argument("--languages", help="comma-separated ISO 639-1 codes, main first")
    change.add_argument("--capacity", type=_capacity)
    change.add_argument("--display-name")
    change.add_argument("--role", choices=ROLES)
    return parser


def read_password(from_stdin: bool, stdin: TextIO, prompt: Callable[[str], str]) -> str:
    """One line from stdin, or typed twice at a prompt (no echo)."""
    if from_stdin:
        line = stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password.removesuffix("\r")
    else:
        password = prompt("Password: ")
        if prompt("Password again: ") != password:
            raise CommandError("the passwords do not match", EXIT_USAGE)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CommandError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters", EXIT_USAGE)
    return password


def _format_table(agents: List[Agent]) -> str:
    rows = [("USERNAME", "ROLE", "LANGUAGES", "CAPACITY", "DISPLAY NAME")]
    rows += [(a.username, a.role, ",".join(a.languages), str(a.capacity), a.display_name) for a in agents]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    )


def _validate(args: argparse.Namespace) -> None:
    """Check every value before anything is asked or stored."""
    try:
        if getattr(args, "name", None) is not None:
            validate_username(args.name)
        if getattr(args, "role", None) is not None:
            validate_role(args.role)
        if getattr(args, "languages", None) is not None:
            validate_languages(args.languages)
        if getattr(args, "display_name", None) is not None:
            validate_display_name(args.display_name)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    if args.command == "set" and all(
        getattr(args, option) is None for option in ("languages", "capacity", "display_name", "role")
    ):
        raise CommandError(
            "nothing to change: give --languages, --capacity, --display-name or --role", EXIT_USAGE
        )


async def run_command(
    args: argparse.Namespace,
    url: str,
    stdin: TextIO,
    stdout: TextIO,
    prompt: Callable[[str], str],
) -> None:
    # One quick retry: redis-py 8's default (ten, with backoff) keeps a person
    # waiting about 4 s before "cannot reach Redis".
    client = redis.asyncio.from_url(url, decode_responses=True, retry=Retry(NoBackoff(), 1))
    try:
        await client.ping()
        store = UserStore(client)
        if args.command == "add":
            if await store.get(args.name) is not None:
                raise CommandError(f"agent {args.name!r} already exists")
            password = read_password(args.password_stdin, stdin, prompt)
            agent = await store.create(
                args.name,
                password,
                role=args.role,
                languages=args.languages,
                display_name=args.display_name,
                capacity=args.capacity,
            )
            print(
                f"added {agent.role} {agent.username} ({agent.display_name}; languages "
                f"{','.join(agent.languages)}; capacity {agent.capacity})",
                file=stdout,
            )
        elif args.command == "list":
            agents = await store.list()
            if args.json:
                print(
                    json.dumps([agent.to_wire() for agent in agents], ensure_ascii=False, indent=2),
                    file=stdout,
                )
            elif agents:
                print(_format_table(agents), file=stdout)
            else:
                print("no agents yet: python -m handoff.users add NAME", file=stdout)
        elif args.command == "passwd":
            if await store.get(args.name) is None:
                raise CommandError(f"no agent {args.name!r}")
            await store.update(args.name, password=read_password(args.password_stdin, stdin, prompt))
            print(f"password changed for {args.name}", file=stdout)
        elif args.command == "remove":
            if not await store.delete(args.name):
                raise CommandError(f"no agent {args.name!r}")
            print(f"removed {args.name}", file=stdout)
        elif args.command == "set":
            agent = await store.update(
                args.name,
                languages=args.languages,
                capacity=args.capacity,
                display_name=args.display_name,
                role=args.role,
            )
            print(
                f"updated {agent.username}: role {agent.role}; languages {','.join(agent.languages)}; "
                f"capacity {agent.capacity}; display name {agent.display_name}",
                file=stdout,
            )
    except UserExists as exc:
        raise CommandError(str(exc)) from None
    except UnknownUser as exc:
        raise CommandError(str(exc)) from None
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        raise CommandError(f"cannot reach Redis at {url}: {exc}") from None
    finally:
        await client.aclose()


def main(
    argv: Optional[Sequence[str]] = None,
    env: Optional[Mapping[str, str]] = None,
    stdin: Optional[TextIO] = None,
    stdout: Optional[TextIO] = None,
    stderr: Optional[TextIO] = None,
    prompt: Callable[[str], str] = getpass.getpass,
) -> int:
    """Run one command; returns the exit code (streams and environment injectable for tests)."""
    env = os.environ if env is None else env
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    args = build_parser().parse_args(argv)
    embedded: Optional[EmbeddedRedis] = None
    try:
        _validate(args)
        try:
            settings = Settings.from_env(env)
            url, embedded = resolve_redis_url(
                args.redis_url or settings.redis_url, settings.embedded_redis_dir
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise CommandError(f"no Redis: {exc}") from None
        asyncio.run(run_command(args, url, stdin, stdout, prompt))
    except CommandError as exc:
        print(f"error: {exc}", file=stderr)
        return exc.code
    except (KeyboardInterrupt, EOFError):
        print("\ncancelled", file=stderr)
        return EXIT_FAILED
    finally:
        if embedded is not None:
            embedded.stop()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
