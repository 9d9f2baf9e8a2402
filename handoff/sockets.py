"""The two Socket.IO namespaces: /chat (visitors) and /agent (agents). docs/protocol.md is the contract.

Connecting authenticates and sends the session. Every other event is dispatched from the table
in handoff/routes.py: find who is asking, parse the payload, call the desk's handler, and turn
every failure into the error ack of docs/protocol.md (`answer`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Any, Awaitable, Dict, Optional

import socketio
from redis.exceptions import RedisError

from handoff import protocol as p
from handoff.agents import Agent
from handoff.announcer import agent_room, visitor_room
from handoff.quotas import Quotas, RateLimited, client_ip
from handoff.routes import AGENT_ROUTES, CHAT_ROUTES, Route
from handoff.service import Service
from handoff.state import InvalidTransition
from handoff.store import Conflict, ConversationFull, NotFound
from handoff.tokens import InvalidToken, TokenSigner

log = logging.getLogger("handoff.sockets")

VISITOR_TOKEN_TTL = 365 * 24 * 3600
MAX_PAGE_CHARS = 500
MAX_LOCALE_CHARS = 35


async def answer(call: Awaitable[Any]) -> Any:
    """Run a handler; every failure becomes an error ack (docs/protocol.md, Errors)."""
    try:
        return await call
    except p.ProtocolError as exc:
        return exc.as_ack()
    except InvalidTransition as exc:
        return p.ProtocolError("invalid_state", str(exc)).as_ack()
    except Conflict as exc:
        code = "capacity" if exc.kind == "scard" else "invalid_state"
        return p.ProtocolError(code, "the conversation changed; reload it").as_ack()
    except NotFound as exc:
        return p.ProtocolError("not_found", f"no conversation {exc}").as_ack()
    except ConversationFull:
        message = "this conversation is too long; nothing was stored"
        return p.ProtocolError("conversation_full", message).as_ack()
    except RateLimited as exc:
        message = f"too many requests; send again in {exc.retry_after} s"
        return p.ProtocolError("rate_limited", message, exc.retry_after).as_ack()
    except (RedisError, OSError) as exc:
        log.warning("storage unavailable: %s", exc)
        return p.ProtocolError(
            "unavailable", "storage is unavailable; nothing was stored, send again"
        ).as_ack()


def _short_text(value: Any, limit: int) -> Optional[str]:
    return value[:limit] if isinstance(value, str) and value.strip() else None


class _Dispatching(socketio.AsyncNamespace):
    """Events in `routes` go to `desk`; connect and disconnect to the `on_*` methods."""

    routes: Dict[str, Route] = {}

    def __init__(self, namespace: str, desk: Any) -> None:
        super().__init__(namespace)
        self.desk = desk

    async def who(self, sid: str) -> Any:
        raise NotImplementedError

    async def limit(self, sid: str, route: Route) -> None:
        """Count the event against its rate limits (RateLimited: refused, nothing stored)."""

    async def trigger_event(self, event: str, *args: Any) -> Any:
        route = self.routes.get(event)
        if route is None:
            return await super().trigger_event(event, *args)
        sid, data = args[0], (args[1] if len(args) > 1 else None)

        async def run() -> Any:
            await self.limit(sid, route)
            who = await self.who(sid)
            return await route.handle(self.desk, who, route.parse(data))

        result = await answer(run())
        if route.acked:
            return result
        if isinstance(result, dict) and not result.get("ok", True):
            await self.emit(p.ERROR, result["error"], to=sid)
        return None


class ChatNamespace(_Dispatching):
    routes = CHAT_ROUTES

    def __init__(
        self,
        service: Service,
        signer: TokenSigner,
        identity_secret: Optional[str] = None,
        quotas: Optional[Quotas] = None,
        forwarded_for: bool = False,
    ) -> None:
        super().__init__(p.CHAT_NAMESPACE, service.visitors)
        self.service, self.signer, self.quotas = service, signer, quotas
        self.identity_secret = identity_secret.encode() if identity_secret else None
        self.forwarded_for = forwarded_for

    async def limit(self, sid: str, route: Route) -> None:
        if self.quotas is not None:
            session = await self.get_session(sid)
            await self.quotas.event(route.quota or "event", session.get("ip"), session["vid"])

    def verified_identity(self, identity: Any) -> Optional[str]:
        """The host site's customer id, if it signed it: HMAC-SHA256(HANDOFF_IDENTITY_SECRET, id), hex."""
        if self.identity_secret is None or not isinstance(identity, dict):
            return None
        customer, signature = identity.get("id"), identity.get("signature")
        if not isinstance(customer, str) or not 0 < len(customer) <= 200 or not isinstance(signature, str):
            return None
        try:  # a lone surrogate (JSON "\ud800") cannot be signed: no identity
            expected = hmac.new(self.identity_secret, customer.encode(), hashlib.sha256).hexdigest()
        except UnicodeEncodeError:
            return None
        if not hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "replace")):
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
        ip = client_ip(environ, self.forwarded_for)
        if self.quotas is not None:
            try:  # before anything is written
                await self.quotas.hit("connect_ip", ip)
                await self.quotas.hit("connect_visitor", vid)
            except RateLimited as exc:
                raise socketio.exceptions.ConnectionRefusedError(
                    "rate_limited", {"retry_after": exc.retry_after}
                ) from None
            except (RedisError, OSError) as exc:
                log.warning("visitor refused, storage unavailable: %s", exc)
                raise socketio.exceptions.ConnectionRefusedError("unavailable") from None
        vid = vid or "v_" + secrets.token_hex(10)
        language = auth.get("language")
        language = language if isinstance(language, str) and p.LANGUAGE.match(language) else None
        known_cid = auth.get("conversation_id") if isinstance(auth.get("conversation_id"), str) else None
        last_seq = auth.get("last_seq")
        last_seq = (
            last_seq if isinstance(last_seq, int) and not isinstance(last_seq, bool) and last_seq > 0 else 0
        )
        try:
            await self.service.store.touch_visitor(
                vid,
                page=_short_text(auth.get("page"), MAX_PAGE_CHARS),
                locale=_short_text(auth.get("locale"), MAX_LOCALE_CHARS),
                language=language,
                verified_id=self.verified_identity(auth.get("identity")),
            )
            if auth.get("visitor_info") is not None:
                try:
                    await self.desk.set_info(vid, p.visitor_info(auth["visitor_info"]))
                except p.ProtocolError as exc:
                    log.info("visitor_info ignored: %s", exc.message)
            session = await self.desk.session(vid, last_seq, known_cid)
        except (RedisError, OSError) as exc:
            log.warning("visitor refused, storage unavailable: %s", exc)
            raise socketio.exceptions.ConnectionRefusedError("unavailable") from None
        await self.save_session(sid, {"vid": vid, "ip": ip})
        await self.enter_room(sid, visitor_room(vid))
        await self.service.sweeper.visitor_connected(sid, vid)
        token = self.signer.issue(vid, "visitor", VISITOR_TOKEN_TTL)
        await self.emit(p.SESSION, {**session, "visitor_token": token}, to=sid)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        try:
            await self.service.sweeper.visitor_disconnected(sid)
        except (RedisError, OSError) as exc:  # the stamp of the last sweep stands
            log.warning("could not record visitor disconnect: %s", exc)

    async def who(self, sid: str) -> str:
        return (await self.get_session(sid))["vid"]


class AgentNamespace(_Dispatching):
    routes = AGENT_ROUTES

    def __init__(self, service: Service, signer: TokenSigner, quotas: Optional[Quotas] = None) -> None:
        super().__init__(p.AGENT_NAMESPACE, service.agents)
        self.service, self.signer, self.quotas = service, signer, quotas
        service.sweeper.close_socket = self._close  # expired or revoked tokens (sweeper.py)

    async def limit(self, sid: str, route: Route) -> None:
        if self.quotas is not None:
            session = await self.get_session(sid)
            await self.quotas.event(route.quota or "agent_event", None, session.get("username"))

    async def _close(self, sid: str) -> None:
        await self.emit(p.ERROR, {"code": "forbidden", "message": "log in again"}, to=sid)
        await self.disconnect(sid)

    async def on_connect(self, sid: str, environ: Dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            claims = self.signer.verify(token if isinstance(token, str) else "", "agent")
        except InvalidToken:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized") from None
        try:
            agent = await self.service.users.get(claims["sub"])
            if agent is None or claims.get("ver", 0) != agent.token_version:
                raise socketio.exceptions.ConnectionRefusedError("unauthorized")
            session = await self.desk.session(agent)
            await self.service.sweeper.agent_connected(sid, agent, claims.get("ver", 0), claims["exp"])
        except (RedisError, OSError) as exc:
            log.warning("agent refused, storage unavailable: %s", exc)
            raise socketio.exceptions.ConnectionRefusedError("unavailable") from None
        await self.save_session(sid, {"username": agent.username})
        await self.enter_room(sid, agent_room(agent.username))
        await self.emit(p.AGENT_SESSION, session, to=sid)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        try:
            await self.service.sweeper.agent_disconnected(sid)
        except (RedisError, OSError) as exc:  # presence expires on its own
            log.warning("could not record agent disconnect: %s", exc)

    async def who(self, sid: str) -> Agent:
        agent = await self.service.users.get((await self.get_session(sid))["username"])
        if agent is None:  # removed while connected
            await self.disconnect(sid)
            raise p.ProtocolError("forbidden", "this agent account no longer exists")
        return agent
