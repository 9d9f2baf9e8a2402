"""The bot's turn: a visitor message to Rasa (handoff/rasa_client.py), its replies stored and announced.

One turn at a time per conversation (a lock that lives only while someone holds it). What the turn
leaves behind (the language Rasa detected, written once onto the conversation and the visitor's
message; the bot's resolution; the replies) is stored in one script (`Store.record_bot_turn`).
The bot's handoff event (docs/handoff-event.md) then escalates the conversation.

Storage away (Redis down or restarting): each of a turn's Redis steps is tried again for up to
STORAGE_PATIENCE (`patiently`), so a Redis restart delays a turn instead of leaving it to the
sweeper, which would ask Rasa a second time once Rasa has answered; after that the message stays
pending and the sweeper re-drives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import weakref
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional, TypeVar

from redis.exceptions import RedisError

from handoff import keyspace, lua
from handoff.announcer import Announcer
from handoff.bot_context import escalation_context
from handoff.rasa_client import BotReply, BotUnavailable, RasaClient
from handoff.state import State
from handoff.store import LiveConversation, Store
from handoff.transcript import REQUEST_HUMAN_PAYLOAD, Transcript
from handoff.waiting import WaitingLine

log = logging.getLogger("handoff")
T = TypeVar("T")

REDRIVE_AT_ONCE = 8
LOCK_TTL = 10.0  # seconds a turn lock outlives a holder that died; renewed every LOCK_TTL / 3 while held
REDRIVE_AFTER = LOCK_TTL + 5  # seconds a message may await the bot, its lock free, before a re-drive
STORAGE_PATIENCE = REDRIVE_AFTER  # seconds a turn's Redis step waits for storage to come back (a restart)
FIRST_DELAY = 0.1  # seconds before such a step is tried again; doubled up to 1 s
REPLY_META = ("reply", "topic", "intent_confidence", "machine_translated", "requested_lang", "notes")


async def patiently(step: str, call: Callable[[], Awaitable[T]]) -> T:
    """`call()`, a Redis step of a turn, tried again while storage is away (the client's own
    transient errors, keyspace.TRANSIENT_ERRORS; any other error at once): after 0.1 s, doubling to
    1 s, for up to STORAGE_PATIENCE; one warning per step, then the last error."""
    deadline, delay = time.monotonic() + STORAGE_PATIENCE, FIRST_DELAY
    while True:
        try:
            return await call()
        except keyspace.TRANSIENT_ERRORS as exc:
            if time.monotonic() + delay > deadline:
                raise
            if delay == FIRST_DELAY:  # the first failure of this step
                log.warning("%s: %s; trying again for up to %.0f s", step, exc, STORAGE_PATIENCE)
            await asyncio.sleep(delay)
            delay = min(2 * delay, 1.0)


def reply_body(reply: BotReply) -> Dict[str, Any]:
    """A bot reply as a message to store (its `lang`: the reply's, else the conversation's)."""
    meta = {k: reply.meta.get(k) for k in REPLY_META if reply.meta.get(k) is not None}
    if reply.buttons:
        meta["buttons"] = reply.buttons
    return {"sender": "bot", "text": reply.text, "lang": reply.meta.get("lang") or None, "meta": meta}


class BotTurn:
    def __init__(
        self,
        store: Store,
        rasa: RasaClient,
        announcer: Announcer,
        transcript: Transcript,
        waiting: WaitingLine,
    ) -> None:
        self.store, self.rasa, self.announcer = store, rasa, announcer
        self.transcript, self.waiting = transcript, waiting
        self._locks: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    @contextlib.asynccontextmanager
    async def _turn_lock(self, cid: str) -> AsyncIterator[None]:
        """One turn at a time per conversation across every service process: a Redis lock, inside
        this process's own lock. The holder renews it while the turn runs (a Rasa call may take the
        whole Rasa timeout); should the holder die, it expires within LOCK_TTL and the sweeper
        re-drives the turn (`redrive`)."""
        local = self._locks.get(cid)
        if local is None:
            local = self._locks[cid] = asyncio.Lock()
        async with local:
            key, token = keyspace.turn_lock(cid), secrets.token_hex(8)
            ttl_ms = int(LOCK_TTL * 1000)
            while not await patiently(
                f"taking the turn lock of {cid}",
                lambda: self.store.redis.set(key, token, nx=True, px=ttl_ms),
            ):
                await asyncio.sleep(0.05)
            renewing = asyncio.ensure_future(self._renew(key, token, ttl_ms))
            try:
                yield
            finally:
                renewing.cancel()
                try:
                    await self.store.redis.eval(lua.RELEASE_LOCK, 1, key, token)
                except RedisError as exc:  # storage away: the lock expires within LOCK_TTL
                    log.warning("releasing the turn lock %s failed: %s", key, exc)

    async def _renew(self, key: str, token: str, ttl_ms: int) -> None:
        while True:
            await asyncio.sleep(LOCK_TTL / 3)
            try:
                await self.store.redis.eval(lua.RENEW_LOCK, 1, key, token, ttl_ms)
            except RedisError as exc:  # Redis away: the turn's own writes will say so
                log.warning("renewing the turn lock %s failed: %s", key, exc)

    async def run(
        self,
        conv: LiveConversation,
        stored: Dict[str, Any],
        chosen_language: str = "",
        redriven: bool = False,
    ) -> None:
        """Answer the visitor's `stored` message; `chosen_language` is the visitor's own choice.

        Storage away for longer than STORAGE_PATIENCE: one warning, and the message, still pending
        in Redis, is left to the sweeper (a re-drive raises, for the sweeper to count)."""
        try:
            await self._run(conv, stored, chosen_language)
        except RedisError as exc:
            if redriven:
                raise  # the sweeper counts it and tries again
            log.warning(
                "the bot turn of %s message %s waits for a re-drive: storage unavailable (%s)",
                conv.id,
                stored["seq"],
                exc,
            )

    async def _run(self, conv: LiveConversation, stored: Dict[str, Any], chosen_language: str) -> None:
        async with self._turn_lock(conv.id):
            current = await patiently(f"reading {conv.id}", lambda: self.store.get(conv.id))
            if current is None or current.state is not State.BOT:
                await self.store.turn_done(conv.id, stored["seq"])
                return  # escalated (or ended) while this turn waited: no bot answer after `queued`
            entry = f"{conv.id}|{stored['seq']}"
            pending = await patiently(
                f"reading {entry} in {keyspace.PENDING_TURNS}",
                lambda: self.store.redis.zscore(keyspace.PENDING_TURNS, entry),
            )
            if not pending:
                return  # answered meanwhile by another run (a re-drive, or the process that first had it)
            conv = current
            metadata: Dict[str, Any] = {"conversation_language": conv.language or None}
            if chosen_language:
                metadata["language"] = chosen_language
            try:
                replies = await self.rasa.send(conv.id, stored["text"], metadata)
                if not replies:  # Rasa took the message but said nothing (a custom action failed)
                    raise BotUnavailable("Rasa answered with no message (see Rasa's log: a failed action?)")
            except BotUnavailable as exc:
                log.warning("bot unavailable for %s: %s", conv.id, exc)
                await self.store.turn_done(conv.id, stored["seq"])
                if stored["text"].strip() == REQUEST_HUMAN_PAYLOAD:
                    context = escalation_context(await self.store.messages(conv.id), conv.language)
                    escalation = {"reason": "requested", "source": "service", **context}
                    await self.waiting.escalate(conv, escalation)
                else:
                    await self.transcript.system(conv, "bot_unavailable")
                return
            if not await self._record(conv, stored, replies):
                return
            handoff = next((r.handoff for r in replies if r.handoff), None)
            if handoff:
                await self.waiting.escalate(conv, handoff, announced_by_bot=True)

    async def redrive(self, older_than: float, now: Optional[float] = None) -> int:
        """At-least-once bot turns: a visitor message still awaiting the bot `older_than` seconds after
        it was stored, whose turn lock is free (its process died), gets its turn here. Up to
        REDRIVE_AT_ONCE turns run at once (after a crash many wait, and each waits for Rasa)."""
        now = now or time.time()
        gate = asyncio.Semaphore(REDRIVE_AT_ONCE)

        async def one(cid: str, seq: int) -> int:
            async with gate:
                if await self.store.redis.exists(keyspace.turn_lock(cid)):
                    return 0  # its turn is running (or its owner died less than LOCK_TTL ago)
                conv = await self.store.get(cid)
                messages = await self.store.messages(cid, seq - 1) if conv else []
                if conv is None or not messages or messages[0].get("sender") != "visitor":
                    await self.store.turn_done(cid, seq)
                    return 0
                chosen = (await self.store.visitor(conv.visitor_id)).get("language", "")
                log.warning("re-driving the bot turn of %s message %d (no run of it finished)", cid, seq)
                await self.run(conv, messages[0], chosen, redriven=True)
                return 1

        stalled = await self.store.stalled_turns(now - older_than)
        done = await asyncio.gather(*(one(cid, seq) for cid, seq in stalled), return_exceptions=True)
        for failure in (d for d in done if isinstance(d, BaseException)):
            log.warning("re-driving a bot turn failed (tried again next sweep): %s", failure)
        return sum(d for d in done if isinstance(d, int))

    async def _record(self, conv: LiveConversation, stored: Dict[str, Any], replies: List[BotReply]) -> bool:
        detected: Optional[str] = None
        resolution: Optional[Dict[str, Any]] = None
        for reply in replies:
            detected = reply.meta.get("requested_lang") or detected
            if reply.resolution:
                resolution = {**reply.resolution, "at": time.time()}
        bodies = [reply_body(reply) for reply in replies if reply.text]
        # Tried again while storage is away: asking Rasa again would put the text in its tracker
        # twice. Never stored twice, and a try written whose reply was lost with the connection
        # is found by its run id: its replies are announced and its handoff event still escalates.
        run = secrets.token_hex(4)
        messages = await patiently(
            f"storing the bot's answer to {conv.id} message {stored['seq']}",
            lambda: self.store.record_bot_turn(conv.id, stored["seq"], detected, resolution, bodies, run),
        )
        if messages is None:
            return False  # the conversation left the bot while Rasa answered: nothing stored
        if detected:
            conv.language = detected
            stored["lang"] = detected
        for message in messages:
            await self.announcer.message(conv, message)
        return True
