"""Latency and memory of the running assistant.

Starts the real processes (Rasa server with the trained model, action server,
translator service), then sends, one after another:
- N `POST /model/parse` requests (NLU only), and
- N conversation turns through `POST /webhooks/handoff/webhook` (NLU, policy,
  custom action, reply),
cycling through the held-out examples of all three languages. Reports
p50/p95/p99 in milliseconds, and the resident memory (RSS, and its peak) of
the Rasa server and the action server afterwards.

    python -m bench.parse_latency [--requests 300]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

from bench.common import latency_ms, save
from bot.content import load_content
from tests.support.processes import (
    action_service,
    api,
    free_port,
    post_json,
    rasa_service,
    translator_service,
)


def rss_mb(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS"), "peak_rss_mb": fields.get("VmHWM")}


def summary(samples: list) -> dict:
    return {"requests": len(samples), **latency_ms(samples)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    content = load_content()
    texts = [t for i in content.intents.values() for b in i.languages.values() for t in b.heldout]
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        ports = {name: free_port() for name in ("translator", "actions", "rasa")}
        url = f"http://127.0.0.1:{ports['translator']}"
        started = time.monotonic()
        services = [translator_service(ports["translator"], logs / "models", logs).start()]
        services.append(action_service(ports["actions"], url, logs).start())
        rasa = rasa_service(ports["rasa"], ports["actions"], url, logs)
        rasa_started = time.monotonic()
        services.append(rasa.start())
        startup_s = round(time.monotonic() - rasa_started, 1)
        base = f"http://127.0.0.1:{ports['rasa']}"
        try:
            for text in texts[:20]:  # warm-up
                post_json(api(f"{base}/model/parse", rasa.token), {"text": text})
            parse_times, turn_times = [], []
            for text in itertools.islice(itertools.cycle(texts), args.requests):
                start = time.perf_counter()
                status, _ = post_json(api(f"{base}/model/parse", rasa.token), {"text": text})
                parse_times.append(time.perf_counter() - start)
                assert status == 200
            for n, text in enumerate(itertools.islice(itertools.cycle(texts), args.requests)):
                start = time.perf_counter()
                status, _ = post_json(
                    f"{base}/webhooks/handoff/webhook", {"sender": f"bench-{n // 5}", "message": text}
                )
                turn_times.append(time.perf_counter() - start)
                assert status == 200
            memory = {
                "rasa_server": rss_mb(rasa.process.pid),
                "action_server": rss_mb(services[1].process.pid),
            }
        finally:
            for service in reversed(services):
                service.stop()
    figures = {
        "rasa_server_startup_s": startup_s,
        "stack_startup_s": round(rasa_started - started + startup_s, 1),
        "model_parse": summary(parse_times),
        "conversation_turn": summary(turn_times),
        "memory": memory,
    }
    print(f"Rasa server ready after {startup_s} s")
    for name in ("model_parse", "conversation_turn"):
        s = figures[name]
        print(
            f"{name:<18} n={s['requests']} p50 {s['p50_ms']} ms  p95 {s['p95_ms']} ms  p99 {s['p99_ms']} ms"
        )
    for name, m in memory.items():
        print(f"{name:<18} RSS {m['rss_mb']} MB (peak {m['peak_rss_mb']} MB)")
    save("parse_latency", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
