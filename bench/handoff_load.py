"""Load on the handoff service, as it runs: real processes, real sockets.

Starts an embedded Redis (handoff/embedded_redis.py) in a temporary directory,
the translator (no translation model), the action server, the Rasa server with
the trained model, and two handoff service processes (A and B) sharing the
Redis; agents are created with the project's CLI. Then, in one run:

1. bot turns through the service: a visitor socket on A sends
   `visitor_message`, timed until the first `message` from the bot; 200
   sequential turns over 40 visitors (5 each), trained FAQ phrasings in
   en/bn/ml. Each turn is paired with a direct `POST
   /webhooks/handoff/webhook` to Rasa with the same text and metadata
   (alternating which goes first): the ratio is the service's overhead;
2. the ack latency of those `visitor_message` events (persist before ack);
3. cross-process relay: an agent on B sends `agent_message` to a claimed
   conversation whose visitor is on A; emit -> the visitor's `message` event,
   200 messages;
4. concurrency: 50 visitors connected at once (25 on A, 25 on B), all running
   at the same time, each 5 bot turns one after another (a visitor waits for
   the answer before the next question); then the claim race: those 50
   conversations queued, two agents on two processes claim every one at once
   (rounds until all are taken: an agent's capacity is at most 20), checking
   that no conversation is ever assigned twice;
5. resident memory of both service processes after the load.

Every visitor's live `message` events are checked against its stored history
(`history`): a stored message that never arrived is a dropped message. The
service logs are scanned for warnings and errors.

    python -m bench.handoff_load [--keep-logs]

The benchmark client runs on the same machine as every service (2 cores here),
so all figures include the client's own CPU use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional

import httpx
import redis as redis_sync

from bench.common import latency_ms, save
from bot.content import load_content
from handoff.embedded_redis import EmbeddedRedis
from tests.support.handoff_service import AgentClient, Visitor, add_agent, handoff_service
from tests.support.processes import (
    MODEL,
    Service,
    free_port,
    start_bot,
)

LANGS = ("en", "bn", "ml")
SEQ_VISITORS, SEQ_TURNS = 40, 200
RELAY_MESSAGES = 200
CONC_VISITORS, CONC_TURNS = 50, 5
RACE_CAPACITY = 20  # MAX_CAPACITY in handoff/agents.py
RASA_TIMEOUT = "30"  # the service's default HANDOFF_RASA_TIMEOUT (the tests use 10)
CONTENT = load_content()
FAQ = sorted(name for name, intent in CONTENT.intents.items() if intent.is_faq)


def faq_text(visitor: int, turn: int, lang: str) -> tuple:
    intent = FAQ[(visitor * CONC_TURNS + turn) % len(FAQ)]
    examples = CONTENT.intents[intent].languages[lang].examples
    return intent, examples[(visitor + 3 * turn) % len(examples)]


def ms(samples: List[float]) -> Dict[str, Any]:
    if not samples:
        return {"n": 0}
    return {"n": len(samples), **latency_ms(samples)}


def memory(pid: int) -> Dict[str, Optional[float]]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS"), "peak_rss_mb": fields.get("VmHWM")}


class TimedVisitor(Visitor):
    """A visitor that stamps when each message arrives and notices a message delivered twice."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.arrived: Dict[str, float] = {}
        self.duplicates: List[str] = []

        @self.sio.on("*", namespace=self.namespace)
        async def record(event: str, *args: Any) -> None:
            data = args[0] if args else None
            if event == "message" and isinstance(data, dict):
                if data.get("id") in self.arrived:
                    self.duplicates.append(data["id"])
                else:
                    self.arrived[data.get("id")] = time.perf_counter()
            self.events.append((event, data))
            self._changed.set()

    async def audit(self) -> Dict[str, int]:
        """Stored messages of the visitor's conversation that never arrived live (and live ones not stored)."""
        history = await self.call("history", {"after_seq": 0})
        stored = {m["id"] for m in history.get("messages", [])}
        cid = history.get("conversation_id")
        live = {i for i in self.arrived if cid and str(i).startswith(cid + ":")}
        return {
            "stored": len(stored),
            "missing": len(stored - live),
            "unknown": len(live - stored),
            "duplicates": len(self.duplicates),
        }


async def connect_visitor(base: str, lang: str) -> TimedVisitor:
    visitor = TimedVisitor(base)
    await visitor.connect({"language": lang, "locale": f"{lang}-IN", "page": "https://shop.example/help"})
    await visitor.wait_for("session")
    return visitor


async def service_turn(visitor: TimedVisitor, text: str, timeout: float) -> Dict[str, Any]:
    """visitor_message -> ack -> the first bot (or system) message after it."""
    start = time.perf_counter()
    ack = await visitor.call(
        "visitor_message", {"text": text, "client_id": uuid.uuid4().hex}, timeout=timeout
    )
    acked = time.perf_counter() - start
    if not ack.get("ok"):
        return {"ok": False, "error": "ack:" + ack["error"]["code"], "ack_s": acked}
    seq = ack["seq"]
    try:
        reply = await visitor.wait_for(
            "message", lambda m: m["seq"] > seq and m["sender"] in ("bot", "system"), timeout
        )
    except AssertionError:
        return {"ok": False, "error": "no_reply", "ack_s": acked}
    took = visitor.arrived[reply["id"]] - start
    if reply["sender"] != "bot":
        return {"ok": False, "error": "system:" + str(reply["meta"].get("kind")), "ack_s": acked}
    if str(reply["meta"].get("reply", "")).startswith("faq/"):
        # let the turn finish (the feedback question) before the next one; not part of the latency
        try:
            await visitor.wait_message("bot", after_seq=reply["seq"], timeout=3, reply="ask_feedback")
        except AssertionError:
            pass
    return {"ok": True, "ack_s": acked, "reply_s": took, "reply": reply["meta"].get("reply")}


async def direct_turn(client: httpx.AsyncClient, url: str, sender: str, text: str, lang: str) -> tuple:
    metadata = {"conversation_language": lang, "language": lang}
    start = time.perf_counter()
    response = await client.post(url, json={"sender": sender, "message": text, "metadata": metadata})
    took = time.perf_counter() - start
    body = response.json() if response.status_code == 200 else []
    first = body[0].get("meta", {}).get("reply") if body else None
    return took, response.status_code, first


# --- the stack ------------------------------------------------------------------------------------


class Stack:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.services: List[Service] = []
        self.redis_server: Optional[EmbeddedRedis] = None

    def start(self) -> None:
        self.redis_server = EmbeddedRedis(self.tmp / "redis")
        self.redis_url = self.redis_server.start()
        bot = start_bot(self.tmp, self.tmp / "models", self.services)
        self.rasa_url = bot["rasa_url"]
        ports = {name: free_port() for name in ("a", "b")}
        self.handoff: Dict[str, Service] = {}
        for name in ("a", "b"):
            service = handoff_service(
                name,
                ports[name],
                self.redis_url,
                self.rasa_url,
                bot["translator_url"],
                self.tmp,
                HANDOFF_RASA_TIMEOUT=RASA_TIMEOUT,
                RASA_TOKEN=bot["rasa_token"],
            ).start()
            self.services.append(service)
            self.handoff[name] = service
        self.a, self.b = (f"http://127.0.0.1:{ports[n]}" for n in ("a", "b"))
        add_agent(self.redis_url, "relay", languages="en", capacity=5, display_name="Relay")
        for name in ("racer-a", "racer-b"):
            add_agent(self.redis_url, name, languages="en,bn,ml", capacity=RACE_CAPACITY)

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        if self.redis_server is not None:
            self.redis_server.stop()

    def log_problems(self) -> Dict[str, Any]:
        """Warnings, errors and tracebacks in each process's log."""
        found: Dict[str, Any] = {}
        pattern = re.compile(r"^(WARNING|ERROR|CRITICAL)\b|Traceback|Exception|\bERROR\b")
        for path in sorted(self.tmp.glob("*.log")):
            lines = [
                line.strip() for line in path.read_text(errors="replace").splitlines() if pattern.search(line)
            ]
            if lines:
                distinct = Counter(re.sub(r"c_[0-9a-f]{16}|v_[0-9a-f]{20}", "<id>", line) for line in lines)
                found[path.stem] = {
                    "lines": len(lines),
                    "distinct": [f"{n}x {text[:300]}" for text, n in distinct.most_common(8)],
                }
        return found


# --- the measurements ------------------------------------------------------------------------------


async def sequential_turns(stack: Stack) -> Dict[str, Any]:
    visitors = [await connect_visitor(stack.a, LANGS[i % 3]) for i in range(SEQ_VISITORS)]
    url = stack.rasa_url + "/webhooks/handoff/webhook"
    service_s, direct_s, ack_s = [], [], []
    per_lang: Dict[str, List[float]] = defaultdict(list)
    failures: Counter = Counter()
    answered = Counter()
    async with httpx.AsyncClient(timeout=30) as client:
        warm = {lang: await connect_visitor(stack.a, lang) for lang in LANGS}
        for lang, visitor in warm.items():  # warm-up, not counted
            for turn in range(3):
                _, text = faq_text(90 + turn, turn, lang)
                await service_turn(visitor, text, 30)
                await direct_turn(client, url, f"warm-{lang}", text, lang)
        for visitor in warm.values():
            await visitor.disconnect()
        for n in range(SEQ_TURNS):
            i, turn = n % SEQ_VISITORS, n // SEQ_VISITORS
            lang = LANGS[i % 3]
            intent, text = faq_text(i, turn, lang)
            if n % 2:
                direct = await direct_turn(client, url, f"direct-{i}", text, lang)
                result = await service_turn(visitors[i], text, 20)
            else:
                result = await service_turn(visitors[i], text, 20)
                direct = await direct_turn(client, url, f"direct-{i}", text, lang)
            direct_s.append(direct[0])
            if direct[1] != 200:
                failures[f"direct:http {direct[1]}"] += 1
            answered["direct_expected"] += direct[2] == f"faq/{intent}"
            ack_s.append(result["ack_s"])
            if not result["ok"]:
                failures[result["error"]] += 1
                continue
            service_s.append(result["reply_s"])
            per_lang[lang].append(result["reply_s"])
            answered["service_expected"] += result["reply"] == f"faq/{intent}"
    audits = [await v.audit() for v in visitors]
    for visitor in visitors:
        await visitor.disconnect()
    service, direct = ms(service_s), ms(direct_s)
    return {
        "turns": SEQ_TURNS,
        "visitors": SEQ_VISITORS,
        "through_service": service,
        "through_service_by_language": {lang: ms(per_lang[lang]) for lang in LANGS},
        "direct_rasa_webhook": direct,
        "ratio_service_over_direct": {
            q: round(service[f"{q}_ms"] / direct[f"{q}_ms"], 2) for q in ("p50", "p95", "p99")
        }
        if service["n"]
        else None,
        "overhead_p50_ms": round(service["p50_ms"] - direct["p50_ms"], 1) if service["n"] else None,
        "visitor_message_ack": ms(ack_s),
        "expected_faq_answer": {
            "service": answered["service_expected"],
            "direct": answered["direct_expected"],
            "of": SEQ_TURNS,
        },
        "failures": dict(failures),
        "delivery": totals(audits),
    }


def totals(audits: List[Dict[str, int]]) -> Dict[str, int]:
    out: Counter = Counter()
    for audit in audits:
        out.update(audit)
    return dict(out)


async def relay(stack: Stack) -> Dict[str, Any]:
    agent = await AgentClient.logged_in(stack.b, "relay")
    visitor = await connect_visitor(stack.a, "en")
    try:
        await agent.wait_for("agent_session")
        ack = await visitor.call("request_human", {})
        cid = ack["conversation_id"]
        await agent.wait_queued(cid)
        claimed = await agent.claim(cid)
        assert claimed["ok"], claimed
        await visitor.wait_state("assigned")
        receipt_s, ack_s, failures = [], [], Counter()

        async def send(text: str) -> tuple:
            start = time.perf_counter()
            result = await agent.reply(cid, text)
            return result, time.perf_counter() - start

        for n in range(RELAY_MESSAGES):
            text = f"relay {n}: your order ships today"
            start = time.perf_counter()
            sending = asyncio.create_task(send(text))
            try:
                got = await visitor.wait_for(
                    "message", lambda m, t=text: m["sender"] == "agent" and m["text"] == t, 10
                )
                receipt_s.append(visitor.arrived[got["id"]] - start)
            except AssertionError:
                failures["not_received"] += 1
            result, took = await sending
            ack_s.append(took)
            if not result.get("ok"):
                failures["ack:" + result["error"]["code"]] += 1
        delivery = await visitor.audit()
        closed = await agent.call("close", {"conversation_id": cid, "resolution": "resolved"})
        if not closed.get("ok"):
            failures["close:" + closed["error"]["code"]] += 1
    finally:
        await agent.disconnect()
        await visitor.disconnect()
    return {
        "messages": RELAY_MESSAGES,
        "agent_on": "B",
        "visitor_on": "A",
        "emit_to_visitor_receipt": ms(receipt_s),
        "agent_message_ack": ms(ack_s),
        "failures": dict(failures),
        "delivery": delivery,
    }


async def concurrency(stack: Stack, rds: redis_sync.Redis) -> Dict[str, Any]:
    racers = {
        "racer-a": await AgentClient.logged_in(stack.a, "racer-a"),
        "racer-b": await AgentClient.logged_in(stack.b, "racer-b"),
    }
    bases = (stack.a, stack.b)
    connect_start = time.perf_counter()
    visitors = await asyncio.gather(
        *(connect_visitor(bases[i % 2], LANGS[i % 3]) for i in range(CONC_VISITORS))
    )
    connect_s = time.perf_counter() - connect_start
    reply_s, ack_s, failures = [], [], Counter()

    async def converse(i: int, visitor: TimedVisitor) -> None:
        for turn in range(CONC_TURNS):
            _, text = faq_text(i, turn, LANGS[i % 3])
            result = await service_turn(visitor, text, 60)
            ack_s.append(result["ack_s"])
            if result["ok"]:
                reply_s.append(result["reply_s"])
            else:
                failures[result["error"]] += 1

    start = time.perf_counter()
    await asyncio.gather(*(converse(i, v) for i, v in enumerate(visitors)))
    wall = time.perf_counter() - start
    turns = {
        "visitors": CONC_VISITORS,
        "turns_per_visitor": CONC_TURNS,
        "visitors_on": {"A": (CONC_VISITORS + 1) // 2, "B": CONC_VISITORS // 2},
        "connect_all_s": round(connect_s, 2),
        "wall_s": round(wall, 2),
        "turns_per_s": round(len(reply_s) / wall, 1),
        "bot_reply": ms(reply_s),
        "visitor_message_ack": ms(ack_s),
        "failures": dict(failures),
    }
    before = sum(len(v.received("status")) for v in visitors)
    race = await claim_race(visitors, racers, rds)
    # fan-out: every queue change sends each queued visitor its status and each agent the queue
    race["status_events_to_visitors"] = sum(len(v.received("status")) for v in visitors) - before
    race["queue_events_to_agents"] = {name: len(a.received("queue")) for name, a in racers.items()}
    race["error_events"] = sum(len(c.received("error")) for c in [*visitors, *racers.values()])
    turns["delivery"] = totals([await v.audit() for v in visitors])
    for client in [*visitors, *racers.values()]:
        await client.disconnect()
    return {"turns": turns, "claim_race": race}


async def claim_race(
    visitors: List[TimedVisitor], racers: Dict[str, AgentClient], rds: redis_sync.Redis
) -> Dict[str, Any]:
    escalate_start = time.perf_counter()
    acks = await asyncio.gather(*(v.call("request_human", {}, timeout=60) for v in visitors))
    escalate_s = time.perf_counter() - escalate_start
    cids = [ack["conversation_id"] for ack in acks]
    by_cid = dict(zip(cids, visitors, strict=True))
    deadline = time.monotonic() + 60
    for racer in racers.values():  # both agents see all 50 before the race starts
        while True:
            queued = {e["conversation_id"] for e in (await racer.call("queue", timeout=60))["queue"]}
            if set(cids) <= queued or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
    display = {"racer-a": "Racer-a", "racer-b": "Racer-b"}
    wins: Dict[str, List[str]] = defaultdict(list)  # cid -> agents whose claim was acked ok
    errors: Counter = Counter()
    claim_s: List[float] = []
    problems: List[str] = []
    rounds, claim_wall, remaining = [], 0.0, list(cids)

    async def claim(name: str, cid: str) -> tuple:
        start = time.perf_counter()
        result = await racers[name].call("claim", {"conversation_id": cid}, timeout=120)
        claim_s.append(time.perf_counter() - start)
        return name, cid, result

    while remaining and len(rounds) < 5:
        start = time.perf_counter()
        results = await asyncio.gather(*(claim(name, cid) for cid in remaining for name in racers))
        wall = time.perf_counter() - start
        claim_wall += wall
        won: Dict[str, List[str]] = defaultdict(list)
        refused: Dict[str, Counter] = {name: Counter() for name in racers}
        for name, cid, result in results:
            if result.get("ok"):
                wins[cid].append(name)
                won[name].append(cid)
            else:
                errors[result["error"]["code"]] += 1
                refused[name][result["error"]["code"]] += 1
        # what Redis says, before anything is closed
        sets = {name: rds.smembers(f"agent:{name}:chats") for name in racers}
        if sets["racer-a"] & sets["racer-b"]:
            problems.append(f"in both agents' chats: {sorted(sets['racer-a'] & sets['racer-b'])}")
        for name, mine in won.items():
            if len(sets[name]) > RACE_CAPACITY:
                problems.append(f"{name} holds {len(sets[name])} chats, capacity {RACE_CAPACITY}")
            for cid in mine:
                state, agent = rds.hmget(f"conv:{cid}", "state", "agent")
                if (state, agent) != ("assigned", name):
                    problems.append(f"{cid}: acked to {name}, stored {state}/{agent}")
                try:  # the visitor (on A or B) is told who took it
                    status = await by_cid[cid].wait_for(
                        "status", lambda s: s["state"] == "assigned" and s.get("agent"), 10
                    )
                    if status["agent"]["name"] != display[name]:
                        problems.append(f"{cid}: visitor told {status['agent']['name']}, acked to {name}")
                except AssertionError:
                    problems.append(f"{cid}: the visitor got no 'assigned' status")
        rounds.append(
            {
                "conversations": len(remaining),
                "claims_sent": len(results),
                "claimed": sum(len(v) for v in won.values()),
                "by_agent": {name: len(won[name]) for name in racers},
                "refused_by_agent": {name: dict(codes) for name, codes in refused.items()},
                "wall_s": round(wall, 3),
            }
        )
        closes = await asyncio.gather(
            *(
                racers[name].call("close", {"conversation_id": cid, "resolution": "resolved"}, timeout=60)
                for name, mine in won.items()
                for cid in mine
            )
        )
        for closed in closes:
            if not closed.get("ok"):
                problems.append(f"close refused: {closed['error']}")
        remaining = [cid for cid in remaining if cid not in wins]
    announced: Dict[str, set] = defaultdict(set)
    for name, racer in racers.items():
        for packet in racer.received("conversation"):
            if packet.get("conversation_id") in by_cid and packet.get("state") == "assigned":
                announced[packet["conversation_id"]].add(name)
    doubles = sorted(cid for cid, names in wins.items() if len(names) > 1)
    total = sum(len(names) for names in wins.values())
    return {
        "conversations": len(cids),
        "agents": {"racer-a": "process A", "racer-b": "process B", "capacity_each": RACE_CAPACITY},
        "escalate_all_s": round(escalate_s, 2),
        "rounds": rounds,
        "claimed": total,
        "never_claimed": len(remaining),
        "double_assignments": len(doubles),
        "announced_to_both_agents": sum(1 for names in announced.values() if len(names) > 1),
        "other_problems": problems[:20],
        "refusals": dict(errors),
        "claims_per_s": round(total / claim_wall, 1) if claim_wall else None,
        "claim_ack": ms(claim_s),
    }


async def measure(stack: Stack) -> Dict[str, Any]:
    rds = redis_sync.Redis.from_url(stack.redis_url, decode_responses=True)
    figures: Dict[str, Any] = {}
    phases = {}
    try:
        start = time.monotonic()
        figures["sequential"] = await sequential_turns(stack)
        phases["sequential_s"] = round(time.monotonic() - start, 1)
        start = time.monotonic()
        figures["relay"] = await relay(stack)
        phases["relay_s"] = round(time.monotonic() - start, 1)
        start = time.monotonic()
        figures.update(await concurrency(stack, rds))
        phases["concurrency_s"] = round(time.monotonic() - start, 1)
        figures["redis_keys"] = rds.dbsize()
    finally:
        rds.close()
    figures["phases"] = phases
    return figures


def line(name: str, s: Dict[str, Any], extra: str = "") -> str:
    if not s.get("n"):
        return f"{name:<44} (no samples)"
    return f"{name:<44} {s['n']:>4} {s['p50_ms']:>8} {s['p95_ms']:>8} {s['p99_ms']:>8}  {extra}"


def report(f: Dict[str, Any]) -> None:
    seq, rel = f["sequential"], f["relay"]
    turns, race = f["turns"], f["claim_race"]
    print(
        f"\nmachine: {f['machine_note']}; load average before start {f['load_before']}; "
        f"stack ready in {f['stack_startup_s']} s"
    )
    print(f"{'':<44} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    ratio = seq["ratio_service_over_direct"] or {}
    print(
        line(
            "1. bot reply through the service (A)",
            seq["through_service"],
            f"ratio p50 {ratio.get('p50')}, +{seq['overhead_p50_ms']} ms",
        )
    )
    for lang in LANGS:
        print(line(f"     {lang}", seq["through_service_by_language"][lang]))
    print(line("   direct POST /webhooks/handoff/webhook", seq["direct_rasa_webhook"]))
    print(line("2. visitor_message ack (sequential)", seq["visitor_message_ack"]))
    print(line("3. agent_message B -> visitor on A", rel["emit_to_visitor_receipt"]))
    print(line("   agent_message ack (B)", rel["agent_message_ack"]))
    print(
        line(
            f"4. {turns['visitors']} visitors x {turns['turns_per_visitor']} turns, concurrent",
            turns["bot_reply"],
            f"{turns['turns_per_s']} turns/s",
        )
    )
    print(line("   visitor_message ack (concurrent)", turns["visitor_message_ack"]))
    print(line("   claim ack (race)", race["claim_ack"]))
    print(
        f"   claim race: {race['conversations']} queued, 2 agents on A and B: {race['claimed']} claimed in "
        f"{len(race['rounds'])} round(s), {race['claims_per_s']} claims/s, "
        f"double assignments {race['double_assignments']}, refusals {race['refusals']}"
    )
    print(
        f"   fan-out during the race: {race['status_events_to_visitors']} status events to the visitors, "
        f"queue events to the agents {race['queue_events_to_agents']}, error events {race['error_events']}"
    )
    for name, m in f["memory"].items():
        print(f"5. RSS {name}: {m['rss_mb']} MB (peak {m['peak_rss_mb']} MB)")
    lost = {
        k: v
        for k, v in {
            "sequential": seq["failures"],
            "relay": rel["failures"],
            "concurrent": turns["failures"],
        }.items()
        if v
    }
    print(f"failures: {lost or 'none'}")
    print(
        "delivery (stored vs received live): "
        + ", ".join(
            f"{k} {d}"
            for k, d in (("seq", seq["delivery"]), ("relay", rel["delivery"]), ("conc", turns["delivery"]))
        )
    )
    if f["log_problems"]:
        for name, found in f["log_problems"].items():
            print(f"log {name}: {found['lines']} warning/error lines, e.g. {found['distinct'][:3]}")
    else:
        print("logs: no warnings or errors")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with the logs")
    args = parser.parse_args()
    if not MODEL.exists():
        print(f"no trained model at {MODEL}: run `make train`")
        return 1
    load_before = [round(x, 2) for x in os.getloadavg()]
    tmp = Path(tempfile.mkdtemp(prefix="nimbus-hl-", dir="/tmp"))  # short: the Redis unix socket lives here
    stack = Stack(tmp)
    started = time.monotonic()
    try:
        stack.start()
        startup = round(time.monotonic() - started, 1)
        figures = asyncio.run(measure(stack))
        figures["memory"] = {
            f"handoff {name.upper()} (pid {service.process.pid})": memory(service.process.pid)
            for name, service in stack.handoff.items()
        }
    finally:
        stack.stop()
        problems = stack.log_problems()
        if args.keep_logs:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    figures = {
        "machine_note": f"{os.cpu_count()} CPUs shared by Redis, translator, action server, Rasa, "
        "both service processes and this load generator",
        "load_before": load_before,
        "stack_startup_s": startup,
        "total_s": round(time.monotonic() - started, 1),
        **figures,
        "log_problems": problems,
    }
    report(figures)
    save("handoff_load", figures)
    race = figures["claim_race"]
    if race["double_assignments"] or race["announced_to_both_agents"] or race["other_problems"]:
        print(f"FAILED: the claim race assigned a conversation twice or disagreed: {race}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
