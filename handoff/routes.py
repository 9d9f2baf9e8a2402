"""The socket protocol as data: every client -> server event, its payload parser and its handler.

Both namespaces (handoff/sockets.py) dispatch from these tables and nothing else, and
tests/handoff/test_protocol.py checks them against docs/protocol.md both ways: an event with no
route, or a route with no entry in the doc, fails a test.

A handler is a method of the namespace's desk (handoff/visitor_desk.py, handoff/agent_desk.py),
called with who is asking (a visitor id, an `Agent`) and the parsed payload. `acked=False`: the
event has no acknowledgement; a failure is sent back as an `error` event instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict

from handoff import desk_payloads as d
from handoff import protocol as p
from handoff.agent_desk import AgentDesk
from handoff.visitor_desk import VisitorDesk


@dataclass(frozen=True)
class Route:
    parse: Callable[[Any], Any]
    handle: Callable[..., Any]  # (desk, who, parsed payload) -> ack
    acked: bool = True
    quota: str = ""  # which rate limits it counts (handoff/quotas.py EVENT_QUOTAS; "" = "event" on /chat,
    # "agent_event" on /agent)


CHAT_ROUTES: Dict[str, Route] = {
    "visitor_message": Route(p.VisitorMessage.parse, VisitorDesk.message, quota="message"),
    "request_human": Route(p.empty, VisitorDesk.request_human, quota="human"),
    "offline_message": Route(p.OfflineMessage.parse, VisitorDesk.offline_message, quota="offline"),
    "history": Route(p.after_seq, VisitorDesk.history),
    "visitor_info": Route(p.visitor_info, VisitorDesk.set_info),
    "typing": Route(p.typing, VisitorDesk.typing, acked=False),
    "set_language": Route(p.chosen_language, VisitorDesk.set_language),
    "leave": Route(p.empty, VisitorDesk.leave),
    "rate": Route(p.Rating.parse, VisitorDesk.rate),
    "email_transcript": Route(d.email_address, VisitorDesk.email_transcript),
}

AGENT_ROUTES: Dict[str, Route] = {
    "queue": Route(p.empty, AgentDesk.queue),
    "claim": Route(p.conversation_ref, AgentDesk.claim, quota="agent_claim"),
    "open": Route(p.conversation_ref, AgentDesk.open),
    "agent_message": Route(p.AgentMessage.parse, AgentDesk.message, quota="agent_message"),
    "typing": Route(p.AgentTyping.parse, AgentDesk.typing, acked=False),
    "set_translation": Route(p.SetTranslation.parse, AgentDesk.set_translation),
    "canned_replies": Route(p.optional_language, AgentDesk.canned_replies),
    "agents": Route(p.empty, AgentDesk.agents),
    "transfer": Route(p.Transfer.parse, AgentDesk.transfer, quota="agent_transfer"),
    "handback": Route(p.conversation_ref, AgentDesk.handback, quota="agent_transfer"),
    "close": Route(p.Close.parse, AgentDesk.close),
    "offline_messages": Route(p.empty, AgentDesk.offline_messages),
    "set_status": Route(d.agent_status, AgentDesk.set_status),
    "add_note": Route(p.AgentMessage.parse, AgentDesk.add_note, quota="agent_message"),
    "offline_update": Route(d.OfflineUpdate.parse, AgentDesk.offline_update),
    "offline_reply": Route(p.AgentMessage.parse, AgentDesk.offline_reply, quota="agent_message"),
    "supervise": Route(p.empty, AgentDesk.supervise),
    "canned_save": Route(d.CannedEdit.parse, AgentDesk.canned_save),
    "canned_delete": Route(d.CannedEdit.parse_key, AgentDesk.canned_delete),
    "take_over": Route(p.conversation_ref, AgentDesk.take_over, quota="agent_claim"),
    "join_chat": Route(p.conversation_ref, AgentDesk.join_chat, quota="agent_claim"),
    "leave_chat": Route(p.conversation_ref, AgentDesk.leave_chat, quota="agent_transfer"),
}

ROUTES: Dict[str, Dict[str, Route]] = {p.CHAT_NAMESPACE: CHAT_ROUTES, p.AGENT_NAMESPACE: AGENT_ROUTES}
