"""The two Socket.IO namespaces: /chat (visitors) and /agent (agents). docs/protocol.md is the contract.

Handlers only authenticate, look up who is asking and turn results and
errors into acks; the logic is in handoff/conversations.py.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
import secrets
from typing import Any, Awaitable, Callable, Dict, Optional

import socketio
from redis.exceptions import RedisError

from handoff import protocol as p
from handoff.auth import Agent, InvalidToken, TokenSigner
from handoff.conversations import Handoff
from handoff.protocol import ProtocolError
from handoff.state import InvalidTransition
from handoff.store import NotFound

log = logging.getLogger("handoff.sockets")

VISITOR_TOKEN_TTL = 365 * 24 * 3600
MAX_PAGE_CHARS = 500
MAX_LOCALE_CHARS = 35


async def answer(call: Awaitable[Any]) -> Any:
    """Run a handler; every failure becomes an error ack (docs/protocol.md, Errors)."""
    try:
        return await call
    except ProtocolError as exc:
        return exc.as_ack()
    except InvalidTransition as exc:
        return ProtocolError("invalid_state", str(exc)).as_ack()
    except NotFound as exc:
        return ProtocolError("not_found", f"no conversation {exc}").as_ack()
    except (RedisError, OSError) as exc:
        log.warning("storage unavailable: %s", exc)
        return ProtocolError("unavailable", "storage is unavailable; nothing was stored, send again").as_ack()


def _short_text(value: Any, limit: int) -> Optional[str]:
    return value[:limit] if isinstance(value, str) and value.strip() else None


class ChatNamespace(socketio.AsyncNamespace):
    def __init__(self, handoff: Handoff, signer: TokenSigner, identity_secret: Optional[str] = None) -> None:
        super().__init__(p.CHAT_NAMESPACE)
        self.handoff, self.signer = handoff, signer
        self.identity_secret = identity_secret.encode() if identity_secret else None

    def verified_identity(self, identity: Any) -> Optional[str]:
        """The host site's customer id, if it signed it: HMAC-SHA256(HANDOFF_IDENTITY_SECRET, id), hex."""
        if self.identity_secret is None or not isinstance(identity, dict):
            return None
        customer, signature = identity.get("id"), identity.get("signature")
        if not isinstance(customer, str) or not 0 < len(customer) <= 200 or not isinstance(signature, str):
            return None
        expected = hmac.new(self.identity_secret, customer.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            log.warning("visitor identity with a bad signature ignored")
            return None
        return customer

    async def on_connect(self, sid: str, environ: Dict[str, Any], auth: Any = None) -> None:
        auth = auth if isinstance(auth, dict) else {}
        vid = None
        if isinstance(auth.get("visitor_token"), str):
            try:
                vid = self.signer.verify(auth["visitor_token"], "visitor")["sub"]
            except InvalidToken:
                vid = None
        vid = vid or "v_" + secrets.token_hex(10)
        language = auth.get("language")
        language = language if isinstance(language, str) and p.LANGUAGE.match(language) else None
        known_cid = auth.get("conversation_id") if isinstance(auth.get("conversation_id"), str) else None
        last_seq = auth.get("last_seq")
        last_seq = (
            last_seq if isinstance(last_seq, int) and not isinstance(last_seq, bool) and last_seq > 0 else 0
        )
        try:
            await self.handoff.store.touch_visitor(
                vid,
                page=_short_text(auth.get("page"), MAX_PAGE_CHARS),
                locale=_short_text(auth.get("locale"), MAX_LOCALE_CHARS),
                language=language,
                verified_id=self.verified_identity(auth.get("identity")),
            )
            if auth.get("visitor_info") is not None:
                try:
                    await self.handoff.set_visitor_info(vid, auth["visitor_info"])
                except ProtocolError as exc:
                    log.info("visitor_info ignored: %s", exc.message)
            session = await self.handoff.visitor_session(vid, last_seq, known_cid)
        except (RedisError, OSError) as exc:
            log.warning("visitor refused, storage unavailable: %s", exc)
            raise socketio.exceptions.ConnectionRefusedError("unavailable") from None
        await self.save_session(sid, {"vid": vid})
        await self.enter_room(sid, f"visitor:{vid}")
        token = self.signer.issue(vid, "visitor", VISITOR_TOKEN_TTL)
        await self.emit(p.SESSION, {**session, "visitor_token": token}, to=sid)

    async def _vid(self, sid: str) -> str:
        return (await self.get_session(sid))["vid"]

    async def _call(self, sid: str, method: Callable[..., Awaitable[Any]], data: Any) -> Any:
        return await answer(method(await self._vid(sid), data))

    async def on_visitor_message(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.visitor_message, data)

    async def on_request_human(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.request_human, data)

    async def on_offline_message(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.offline_message, data)

    async def on_history(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.history, data)

    async def on_set_language(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.set_language, data)

    async def on_leave(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.leave, data)

    async def on_visitor_info(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.set_visitor_info, data)

    async def on_rate(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.rate, data)

    async def on_typing(self, sid: str, data: Any = None) -> None:
        result = await self._call(sid, self.handoff.visitor_typing, data)
        if isinstance(result, dict) and not result.get("ok", True):
            await self.emit(p.ERROR, result["error"], to=sid)


class AgentNamespace(socketio.AsyncNamespace):
    def __init__(self, handoff: Handoff, signer: TokenSigner) -> None:
        super().__init__(p.AGENT_NAMESPACE)
        self.handoff, self.signer = handoff, signer

    async def on_connect(self, sid: str, environ: Dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            claims = self.signer.verify(token if isinstance(token, str) else "", "agent")
        except InvalidToken:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized") from None
        try:
            agent = await self.handoff.users.get(claims["sub"])
            if agent is None:
                raise socketio.exceptions.ConnectionRefusedError("unauthorized")
            session = await self.handoff.agent_session(agent)
            await self.handoff.agent_connected(sid, agent)
        except (RedisError, OSError) as exc:
            log.warning("agent refused, storage unavailable: %s", exc)
            raise socketio.exceptions.ConnectionRefusedError("unavailable") from None
        await self.save_session(sid, {"username": agent.username})
        await self.enter_room(sid, f"agent:{agent.username}")
        await self.emit(p.AGENT_SESSION, session, to=sid)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        try:
            await self.handoff.agent_disconnected(sid)
        except (RedisError, OSError) as exc:  # presence expires on its own
            log.warning("could not record agent disconnect: %s", exc)

    async def _agent(self, sid: str) -> Agent:
        agent = await self.handoff.users.get((await self.get_session(sid))["username"])
        if agent is None:  # removed while connected
            await self.disconnect(sid)
            raise ProtocolError("forbidden", "this agent account no longer exists")
        return agent

    async def _call(self, sid: str, method: Callable[..., Any], data: Any) -> Any:
        async def run() -> Any:
            result = method(await self._agent(sid), data)
            return await result if inspect.isawaitable(result) else result

        return await answer(run())

    async def on_queue(self, sid: str, data: Any = None) -> Any:
        async def view(agent: Agent, _data: Any) -> Any:
            return p.ok_ack(queue=await self.handoff.queue_view(agent))

        return await self._call(sid, view, data)

    async def on_claim(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.claim, data)

    async def on_open(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.open, data)

    async def on_agent_message(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.agent_message, data)

    async def on_set_translation(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.set_translation, data)

    async def on_canned_replies(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.canned_replies, data)

    async def on_agents(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.agents, data)

    async def on_transfer(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.transfer, data)

    async def on_handback(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.handback, data)

    async def on_close(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.close, data)

    async def on_offline_messages(self, sid: str, data: Any = None) -> Any:
        return await self._call(sid, self.handoff.offline_messages, data)

    async def on_typing(self, sid: str, data: Any = None) -> None:
        result = await self._call(sid, self.handoff.agent_typing, data)
        if isinstance(result, dict) and not result.get("ok", True):
            await self.emit(p.ERROR, result["error"], to=sid)
