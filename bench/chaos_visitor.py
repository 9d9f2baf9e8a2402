"""A visitor for the chaos benchmark (bench/chaos.py): a real python-socketio AsyncClient that behaves
as the widget does when the service or Redis goes away (docs/protocol.md):

- a `visitor_message` that gets no ack (the socket died, or the ack timed out) or an `unavailable`
  ack is sent again with the same `client_id` (the idempotency key) until it is acked;
- a lost socket reconnects, to the other service process first and then alternating, with its
  `visitor_token`, `conversation_id` and `last_seq`, so the `session` event brings what it missed;
- a `seq` that jumps past the last one shown asks `history` after that one.

It records, per message: when it was first sent, when it was acked (seq) and when a bot or system
message after it was on screen; and per visitor: outages (from noticing a lost socket to the next
`session`), messages delivered twice live, resyncs.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Dict, List, Optional

import socketio

NAMESPACE = "/chat"
ACK_TIMEOUT = 8.0  # seconds without an ack: the message is sent again (same client_id)
CONNECT_TIMEOUT = 5.0
RESYNC_EVERY = 5.0  # waiting for an answer this long on a live socket: ask `history` (a lost live event)


class ChaosVisitor:
    def __init__(self, index: int, urls: List[str], language: str) -> None:
        self.index, self.urls, self.language = index, urls, language
        self.home = index % len(urls)
        self.sio: Optional[socketio.AsyncClient] = None
        self.token: Optional[str] = None
        self.vid: Optional[str] = None
        self.cid: Optional[str] = None
        self.shown: Dict[int, Dict[str, Any]] = {}  # seq -> message, of conversation `cid`
        self.records: List[Dict[str, Any]] = []
        self.outages: List[float] = []
        self.connects = 0
        self.live_duplicates = 0
        self.resyncs = 0
        self._lost = asyncio.Event()
        self._session: Optional[asyncio.Future] = None

    # --- what arrives -------------------------------------------------------

    def _merge(self, message: Dict[str, Any], live: bool) -> None:
        cid = message.get("conversation_id")
        if cid != self.cid:
            self.cid, self.shown = cid, {}
        seq = int(message["seq"])
        if seq in self.shown:
            self.live_duplicates += live
            return
        gap = live and self.shown and seq > max(self.shown) + 1
        last = max(self.shown) if self.shown else 0
        self.shown[seq] = {**message, "on_screen": time.time()}
        if gap:
            asyncio.get_running_loop().create_task(self.resync(last))

    def _handlers(self, sio: socketio.AsyncClient, lost_event: asyncio.Event) -> None:
        @sio.on("session", namespace=NAMESPACE)
        async def session(data: Dict[str, Any]) -> None:
            self.vid, self.token = data["visitor_id"], data["visitor_token"]
            if data.get("conversation_id") != self.cid:
                self.cid, self.shown = data.get("conversation_id"), {}
            for message in data.get("messages") or []:
                self._merge(message, live=False)
            if self._session is not None and not self._session.done():
                self._session.set_result(True)

        @sio.on("message", namespace=NAMESPACE)
        async def message(data: Dict[str, Any]) -> None:
            self._merge(data, live=True)

        @sio.on("disconnect", namespace=NAMESPACE)
        async def lost(*_: Any) -> None:
            lost_event.set()

    async def resync(self, after: int) -> None:
        """`history` after the last seq shown (what the widget does on a gap)."""
        sio = self.sio
        if sio is None or not sio.connected:
            return
        self.resyncs += 1
        try:
            ack = await sio.call("history", {"after_seq": after}, namespace=NAMESPACE, timeout=ACK_TIMEOUT)
        except Exception:  # noqa: BLE001 - a socket that died meanwhile: the reconnect brings it
            return
        if isinstance(ack, dict) and ack.get("ok"):
            for message in ack["messages"]:
                self._merge(message, live=False)

    # --- connecting ---------------------------------------------------------

    def connected(self) -> bool:
        return self.sio is not None and self.sio.connected and not self._lost.is_set()

    async def _drop(self) -> None:
        sio, self.sio = self.sio, None
        if sio is not None:
            try:
                await sio.disconnect()
            except Exception:  # noqa: BLE001 - already gone
                pass

    async def connect(self, give_up_at: float) -> bool:
        """(Re)connect, starting with the other process after a loss; False if `give_up_at` passed."""
        await self._drop()
        lost_at = time.time()
        if self.connects:
            self.home = (self.home + 1) % len(self.urls)
        while time.time() < give_up_at:
            sio = socketio.AsyncClient(reconnection=False)
            self._lost = asyncio.Event()
            self._handlers(sio, self._lost)
            self._session = asyncio.get_running_loop().create_future()
            auth: Dict[str, Any] = {"language": self.language, "page": "https://shop.example/help"}
            if self.token:
                auth.update(visitor_token=self.token, conversation_id=self.cid)
                auth["last_seq"] = max(self.shown) if self.shown else 0
            try:
                await sio.connect(
                    self.urls[self.home],
                    namespaces=[NAMESPACE],
                    auth=auth,
                    transports=["websocket"],
                    wait_timeout=CONNECT_TIMEOUT,
                )
                await asyncio.wait_for(self._session, CONNECT_TIMEOUT)
            except Exception:  # noqa: BLE001 - refused, unavailable, closed: try the next process
                try:
                    await sio.disconnect()
                except Exception:  # noqa: BLE001
                    pass
                self.home = (self.home + 1) % len(self.urls)
                await asyncio.sleep(0.3)
                continue
            self.sio = sio
            if self.connects:
                self.outages.append(time.time() - lost_at)
            self.connects += 1
            return True
        return False

    async def _call(self, event: str, data: Dict[str, Any]) -> Optional[Any]:
        """The ack, or None when the socket died or no ack came within ACK_TIMEOUT."""
        assert self.sio is not None
        call = asyncio.ensure_future(self.sio.call(event, data, namespace=NAMESPACE, timeout=ACK_TIMEOUT))
        lost = asyncio.ensure_future(self._lost.wait())
        done, _ = await asyncio.wait({call, lost}, return_when=asyncio.FIRST_COMPLETED)
        lost.cancel()
        if call not in done:
            call.cancel()
            return None
        try:
            return call.result()
        except Exception:  # noqa: BLE001 - timeout, disconnected
            return None

    # --- one message ----------------------------------------------------------

    def _answer(self, record: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        if self.cid != record["cid"]:
            return None
        later = [m for s, m in self.shown.items() if s > record["seq"] and m["sender"] in ("bot", "system")]
        return min(later, key=lambda m: m["seq"]) if later else None

    async def send(self, text: str, answer_timeout: float) -> Dict[str, Any]:
        """Send until acked (same client_id every time), then wait for the answer on screen."""
        record: Dict[str, Any] = {
            "client_id": f"chaos-{self.index}-{uuid.uuid4().hex[:12]}",
            "text": text,
            "sent_at": time.time(),
            "attempts": 0,
            "acked": False,
        }
        self.records.append(record)
        give_up = record["sent_at"] + answer_timeout
        while time.time() < give_up:
            if not self.connected() and not await self.connect(give_up):
                break
            record["attempts"] += 1
            payload = {"text": text, "client_id": record["client_id"]}
            ack = await self._call("visitor_message", payload)
            if ack is None:
                self._lost.set()
                continue
            if ack.get("ok"):
                record.update(acked=True, acked_at=time.time(), seq=ack["seq"], cid=ack["conversation_id"])
                if self.cid != ack["conversation_id"]:
                    self.cid, self.shown = ack["conversation_id"], {}
                break
            code = ack["error"]["code"]
            if code not in ("unavailable", "rate_limited"):
                record["error"] = code
                return record
            await asyncio.sleep(0.5)
        if not record["acked"]:
            return record
        last_resync = time.time()
        while time.time() < give_up:
            answer = self._answer(record)
            if answer is not None:
                record.update(answered_at=answer["on_screen"], answer_sender=answer["sender"])
                record["answer_kind"] = answer["meta"].get("kind") or answer["meta"].get("reply")
                return record
            if not self.connected():
                await self.connect(give_up)
                last_resync = time.time()
            elif time.time() - last_resync > RESYNC_EVERY:
                await self.resync(max(self.shown) if self.shown else 0)
                last_resync = time.time()
            await asyncio.sleep(0.1)
        return record

    async def close(self) -> None:
        await self._drop()
