"""Run the Rasa server the only way this project runs it: HTTP API on, behind a token, on loopback.

    .venvs/rasa/bin/python scripts/rasa_serve.py [rasa run options...]

= `rasa run --enable-api --auth-token <token> --interface $RASA_HOST [options]`, where the token is
`RASA_TOKEN` or the one kept in `var/rasa-token` (handoff/rasa_token.py; created when missing) and
`RASA_HOST` defaults to 127.0.0.1. The token goes to Rasa inside this process, so it never shows in
the process list (`ps`), as `--auth-token` on a command line would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handoff.rasa_token import rasa_token  # noqa: E402


def rasa_argv(token: str, host: str, argv: list) -> list:
    """`rasa run`'s arguments. The token is joined to its option (`--auth-token=...`): a token that
    starts with "-" (1 in 64 of the URL-safe ones) would otherwise read as an option."""
    return ["rasa", "run", "--enable-api", f"--auth-token={token}", "--interface", host, *argv]


def main(argv: list) -> None:
    if any(a == "--auth-token" or a.startswith("--auth-token=") for a in argv):
        raise SystemExit(
            "rasa_serve.py: the token comes from RASA_TOKEN or var/rasa-token, not the command line"
        )
    sys.argv = rasa_argv(rasa_token(), os.environ.get("RASA_HOST") or "127.0.0.1", argv)
    # Before the OpenMP runtime is loaded (scikit-learn's import loads the one the sentence
    # encoder shares): idle encoder threads soon sleep instead of spinning (bot/encoder.py).
    from bot.encoder import SPINCOUNT

    os.environ.setdefault("GOMP_SPINCOUNT", SPINCOUNT)
    from rasa.__main__ import main as rasa_main

    from bot.action_results import install

    install()  # action responses validated by a schema compiled once (bot/action_results.py)

    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
