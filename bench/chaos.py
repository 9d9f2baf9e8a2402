"""Chaos: 50 visitors chat through two handoff service processes while one process and Redis are
SIGKILLed and restarted. Nothing acked may be lost or stored twice, and every visitor message gets
exactly one bot answer.

Real processes only: a Redis this benchmark starts on a free loopback port (handoff/embedded_redis.py's
server and settings, plus the port: append-only file with `appendfsync everysec`, see below), the
translator, the action server, Rasa with the trained model, and two handoff service processes (A and
B, each its own port, the same Redis). The visitors are python-socketio clients over real sockets
(bench/chaos_visitor.py): they resend unacked messages with the same `client_id` and reconnect to
the other process (or the restarted one) with their `last_seq`. The timeline (seconds after the
visitors start, `--duration` stretches it):

    20  SIGKILL handoff A; restarted 3 s later on the same port
    50  SIGKILL redis-server; restarted 3 s later on the same port and data directory
    80  visitors stop starting new messages; each still waits for its last answer

Then the stored transcripts are read from Redis and checked against what the visitors were acked:

- acked messages lost: an acked `client_id` that no stored visitor message carries (target 0);
- duplicates: a `client_id` stored twice, or a visitor message answered by two bot turns (target 0);
- visitor messages without exactly one bot answer (each stored bot reply names the turn it belongs
  to, `turn` in handoff/store.py; a `bot_unavailable` notice is not an answer) (target 0);
- the longest gap a visitor saw: from first sending a message to its answer on screen; and the
  longest outage (from a lost socket to the next `session`).

`appendfsync everysec`, as the service's own embedded Redis: redis-server writes the append-only
file (write(2), into the kernel) before it replies to a command, so a SIGKILL of redis-server loses
nothing it acked; fsync matters only when the machine itself loses power (at most the last second).
`--appendfsync always` measures the stricter setting.

    python -m bench.chaos [--visitors 50] [--duration 100] [--appendfsync everysec|always] [--keep-logs]

Exits 1 when a target is missed. Figures in results/bench/chaos.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional

import redis as redis_sync

from bench.chaos_visitor import ChaosVisitor
from bench.common import latency_ms, save
from bot.content import load_content
from handoff import keyspace
from handoff.embedded_redis import EmbeddedRedis
from tests.support.handoff_service import handoff_service
from tests.support.processes import Service, free_port, start_bot

LANGS = ("en", "bn", "ml")
ANSWER_TIMEOUT = 150.0  # a turn whose process died is re-driven 15 s after its message (bot_turn.py)


class PortRedis(EmbeddedRedis):
    """The embedded Redis (same settings) that also listens on a loopback TCP port."""

    def __init__(self, data_dir: Path, port: int, appendfsync: str) -> None:
        super().__init__(data_dir)
        self.port, self.appendfsync = port, appendfsync

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _config_text(self) -> str:
        text = super()._config_text().replace("port 0\n", f"port {self.port}\nbind 127.0.0.1\n")
        return text.replace("appendfsync everysec", f"appendfsync {self.appendfsync}")

    def kill(self) -> None:
        process = self._process
        assert process is not None, "not started here"
        process.send_signal(signal.SIGKILL)
        process.wait()


def texts_by_language() -> Dict[str, List[str]]:
    content = load_content()
    faq = sorted(name for name, intent in content.intents.items() if intent.is_faq)
    return {lang: [content.intents[name].languages[lang].examples[0] for name in faq] for lang in LANGS}


class Stack:
    def __init__(self, tmp: Path, appendfsync: str) -> None:
        self.tmp, self.services = tmp, []  # type: List[Service]
        self.redis = PortRedis(tmp / "redis", free_port(), appendfsync)

    def start(self) -> None:
        self.redis.start()
        bot = start_bot(self.tmp, self.tmp / "models", self.services)
        ports = {name: free_port() for name in ("a", "b")}
        self.handoff: Dict[str, Service] = {}
        for name in ("a", "b"):
            service = handoff_service(
                name,
                ports[name],
                self.redis.url,
                bot["rasa_url"],
                bot["translator_url"],
                self.tmp,
                RASA_TOKEN=bot["rasa_token"],
            )
            service.env.pop("HANDOFF_RASA_TIMEOUT", None)  # the service's default (30 s), as deployed
            self.services.append(service.start())
            self.handoff[name] = service
        self.urls = [f"http://127.0.0.1:{ports[n]}" for n in ("a", "b")]

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.redis.stop()

    def log_problems(self) -> Dict[str, List[str]]:
        pattern = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback")
        found = {}
        for path in sorted(self.tmp.glob("*.log")):
            lines = [line for line in path.read_text(errors="replace").splitlines() if pattern.search(line)]
            if lines:
                distinct = Counter(
                    re.sub(r"c_[0-9a-f]{16}|v_[0-9a-f]{20}|\d+", "#", ln)[:200] for ln in lines
                )
                found[path.stem] = [f"{n}x {text}" for text, n in distinct.most_common(6)]
        return found


async def chaos(stack: Stack, scale: float, started: float, events: List[Dict[str, Any]]) -> None:
    """The timeline of the module docstring; each event is stamped (seconds after `started`)."""

    async def at(seconds: float) -> None:
        await asyncio.sleep(max(0.0, started + seconds * scale - time.time()))

    def stamp(what: str) -> None:
        events.append({"at_s": round(time.time() - started, 2), "event": what})
        print(f"  {events[-1]['at_s']:6.1f} s  {what}", flush=True)

    victim = stack.handoff["a"]
    await at(20)
    assert victim.process is not None
    os.killpg(victim.process.pid, signal.SIGKILL)
    victim.process.wait()
    stamp("SIGKILL handoff A")
    await at(23)
    await asyncio.to_thread(victim.start)
    stamp("handoff A restarted (answers /health)")
    await at(50)
    stack.redis.kill()
    stamp("SIGKILL redis-server")
    await at(53)
    await asyncio.to_thread(stack.redis.start)
    stamp("redis-server restarted (append-only file loaded)")


async def chat(visitor: ChaosVisitor, texts: List[str], until: float, seed: int) -> None:
    rng = random.Random(seed)
    await visitor.connect(time.time() + 60)
    turn = 0
    while time.time() < until:
        await visitor.send(texts[(visitor.index + 7 * turn) % len(texts)], ANSWER_TIMEOUT)
        turn += 1
        await asyncio.sleep(rng.uniform(0.5, 2.0))
    await visitor.close()


def audit(redis_url: str, visitors: List[ChaosVisitor]) -> Dict[str, Any]:
    """The stored transcripts (Redis) against what the visitors were acked."""
    client = redis_sync.Redis.from_url(redis_url, decode_responses=True)
    counts: Counter = Counter()
    problems: List[Dict[str, Any]] = []
    for visitor in visitors:
        acked = {r["client_id"]: r for r in visitor.records if r["acked"]}
        stored_ids: Counter = Counter()
        for cid in client.lrange(keyspace.visitor_conversations(visitor.vid or ""), 0, -1):
            messages = [json.loads(m) for m in client.lrange(keyspace.messages(cid), 0, -1)]
            for i, message in enumerate(messages):
                if message["sender"] != "visitor":
                    continue
                stored_ids[message.get("client_id")] += 1
                counts["stored_visitor_messages"] += 1
                group = []
                for later in messages[i + 1 :]:
                    if later["sender"] == "visitor":
                        break
                    group.append(later)
                if any((m.get("meta") or {}).get("kind") == "queued" for m in group):
                    counts["escalated_by_the_bot"] += 1
                turns = {m.get("turn") or "?" for m in group if m["sender"] == "bot"}
                if len(turns) == 1:
                    counts["answered_once"] += 1
                    continue
                kinds = [(m.get("meta") or {}).get("kind") for m in group if m["sender"] == "system"]
                what = "answered_twice" if len(turns) > 1 else "no_bot_answer"
                counts[what] += 1
                if "bot_unavailable" in kinds:
                    counts["bot_unavailable_notices"] += 1
                problems.append({"what": what, "cid": cid, "seq": message["seq"], "system": kinds})
        for client_id in acked:
            if stored_ids[client_id] == 0:
                counts["acked_lost"] += 1
                problems.append({"what": "acked_lost", "client_id": client_id})
        counts["duplicate_visitor_messages"] += sum(n - 1 for n in stored_ids.values() if n > 1)
    counts["pending_turns_left"] = client.zcard(keyspace.PENDING_TURNS)
    client.close()
    return {"counts": dict(counts), "problems": problems[:30]}


async def run(args: argparse.Namespace, stack: Stack) -> Dict[str, Any]:
    texts = texts_by_language()
    visitors = [ChaosVisitor(i, stack.urls, LANGS[i % 3]) for i in range(args.visitors)]
    started = time.time()
    until = started + 80 * args.duration / 100
    events: List[Dict[str, Any]] = []
    chatting = [asyncio.create_task(chat(v, texts[v.language], until, seed=v.index)) for v in visitors]
    timeline = asyncio.create_task(chaos(stack, args.duration / 100, started, events))
    await asyncio.gather(timeline, *chatting)
    # every turn that is still pending is re-driven by a sweeper: wait for them before reading Redis
    client = redis_sync.Redis.from_url(stack.redis.url, decode_responses=True)
    deadline = time.time() + 90
    while client.zcard(keyspace.PENDING_TURNS) and time.time() < deadline:
        await asyncio.sleep(1)
    client.close()
    records = [r for v in visitors for r in v.records]
    acked = [r for r in records if r["acked"]]
    answered = [r for r in acked if "answered_at" in r]
    waits = [r["answered_at"] - r["sent_at"] for r in answered]
    outages = [o for v in visitors for o in v.outages]
    stored = audit(stack.redis.url, visitors)
    counts = stored["counts"]
    figures = {
        "visitors": args.visitors,
        "appendfsync": args.appendfsync,
        "timeline": events,
        "messages_sent": len(records),
        "messages_acked": len(acked),
        "not_acked": Counter(r.get("error", "gave_up") for r in records if not r["acked"]),
        "sends_needed_more_than_once": sum(r["attempts"] > 1 for r in records),
        "answers_seen_by_visitors": len(answered),
        "acked_lost": counts.get("acked_lost", 0),
        "duplicates": counts.get("duplicate_visitor_messages", 0) + counts.get("answered_twice", 0),
        "without_exactly_one_bot_answer": counts.get("no_bot_answer", 0) + counts.get("answered_twice", 0),
        "of_which_bot_unavailable_notices": counts.get("bot_unavailable_notices", 0),
        "longest_gap_s": round(max(waits, default=0.0), 2),
        "send_to_answer": latency_ms(waits) if waits else None,
        "longest_outage_s": round(max(outages, default=0.0), 2),
        "reconnects": sum(max(0, v.connects - 1) for v in visitors),
        "resyncs": sum(v.resyncs for v in visitors),
        "live_duplicates_shown": sum(v.live_duplicates for v in visitors),
        "stored": counts,
        "problems": stored["problems"],
        "log_problems": stack.log_problems(),
    }
    return figures


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--duration", type=float, default=100.0, help="seconds of the timeline (scaled)")
    parser.add_argument("--appendfsync", choices=("everysec", "always"), default="everysec")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs (printed path)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="nimbus-chaos-"))
    stack = Stack(tmp, args.appendfsync)
    try:
        print(f"starting the stack (logs in {tmp}) ...", flush=True)
        stack.start()
        print(f"{args.visitors} visitors chatting for {args.duration:g} s", flush=True)
        figures = asyncio.run(run(args, stack))
    finally:
        stack.stop()
        if not args.keep_logs:
            shutil.rmtree(tmp, ignore_errors=True)
    save("chaos", figures)
    headline = ("messages_sent", "messages_acked", "acked_lost", "duplicates")
    headline += ("without_exactly_one_bot_answer", "of_which_bot_unavailable_notices", "longest_gap_s")
    headline += ("longest_outage_s",)
    for key in headline:
        print(f"{key:32} {figures[key]}")
    missed = [k for k in ("acked_lost", "duplicates", "without_exactly_one_bot_answer") if figures[k]]
    if missed or not figures["messages_acked"]:
        print("TARGET MISSED: " + (", ".join(missed) or "nothing acked"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
