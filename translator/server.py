"""The translator service: argostranslate behind HTTP, offline.

    python -m translator.server [--host 127.0.0.1] [--port 5070]

GET  /health      {"status": "ok", "engine": "argostranslate", "models": [...],
                   "pairs": [{"source", "target", "via"}], "note": "..."}
POST /translate   {"text", "source", "target"} ->
                  200 {"text", "source", "target", "engine", "model"}
                  400 {"error": "bad_request", "message"}   malformed input
                  413 {"error": "too_long", "message"}      over 5000 characters
                  422 {"error": "no_model", "message"}      no model for the pair
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Optional

from sanic import Sanic, json
from sanic.request import Request

from translator.client import TranslationUnavailable
from translator.engine import MAX_CHARS, TranslationEngine

log = logging.getLogger(__name__)
LANG_CODE_MAX = 8


def _error(kind: str, message: str, status: int):
    return json({"error": kind, "message": message}, status=status)


def create_app(engine: TranslationEngine, name: str = "translator") -> Sanic:
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 64 * 1024

    @app.before_server_start
    async def load_models(app: Sanic) -> None:
        if not engine.loaded:
            await app.loop.run_in_executor(None, engine.load)

    @app.get("/health")
    async def health(request: Request):
        pairs = engine.pairs()
        return json(
            {
                "status": "ok",
                "engine": "argostranslate",
                "models": sorted(m.name for m in engine.models.values()),
                "pairs": pairs,
                "note": None
                if pairs
                else f"no translation model installed in {engine.packages_dir}: machine translation is off",
            }
        )

    @app.post("/translate")
    async def translate(request: Request):
        try:
            body = request.json
        except Exception:
            body = None
        if not isinstance(body, dict):
            return _error("bad_request", "expected a JSON object {text, source, target}", 400)
        text, source, target = body.get("text"), body.get("source"), body.get("target")
        for field, value in (("source", source), ("target", target)):
            if not isinstance(value, str) or not value or len(value) > LANG_CODE_MAX:
                return _error("bad_request", f"`{field}` must be a language code", 400)
        if not isinstance(text, str) or not text.strip():
            return _error("bad_request", "`text` must be non-empty text", 400)
        if len(text) > MAX_CHARS:
            return _error("too_long", f"`text` is longer than {MAX_CHARS} characters", 413)
        try:
            translation = await request.app.loop.run_in_executor(None, engine.translate, text, source, target)
        except TranslationUnavailable as exc:
            return _error(exc.code, exc.reason, 422)
        return json(translation.as_dict())

    return app


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description="Offline translation service (argostranslate)")
    parser.add_argument("--host", default=os.environ.get("TRANSLATOR_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("TRANSLATOR_PORT", "5070")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(TranslationEngine())
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
