"""The conversation state machine: bot -> queued -> assigned -> closed.

Every conversation is in exactly one state. Only the transitions below are
allowed; anything else raises `InvalidTransition` (the service turns that into
a protocol error, and nothing is stored).

    bot      --escalate-->  queued      the bot's handoff event (docs/handoff-event.md)
    bot      --end-------->  closed     resolved by the bot, or the visitor left
    queued   --claim------>  assigned   an agent claims it (atomically)
    queued   --abandon---->  closed     the visitor left while waiting
    queued   --offline---->  closed     no agent: the visitor left a message (offline form)
    assigned --transfer--->  assigned   to another agent
    assigned --requeue---->  queued     the agent disconnected past the grace period
    assigned --handback--->  bot        the agent hands the visitor back to the bot
    assigned --close------>  closed     with a resolution code
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Dict, Tuple


class State(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class Resolution(StrEnum):
    """How an agent closes a conversation."""

    RESOLVED = "resolved"
    NOT_RESOLVED = "not_resolved"
    FOLLOW_UP = "follow_up"


TRANSITIONS: Dict[Tuple[State, str], State] = {
    (State.BOT, "escalate"): State.QUEUED,
    (State.BOT, "end"): State.CLOSED,
    (State.QUEUED, "claim"): State.ASSIGNED,
    (State.QUEUED, "abandon"): State.CLOSED,
    (State.QUEUED, "offline"): State.CLOSED,
    (State.ASSIGNED, "transfer"): State.ASSIGNED,
    (State.ASSIGNED, "requeue"): State.QUEUED,
    (State.ASSIGNED, "handback"): State.BOT,
    (State.ASSIGNED, "close"): State.CLOSED,
}
EVENTS = frozenset(event for _, event in TRANSITIONS)


class InvalidTransition(ValueError):
    """An event that the conversation's current state does not allow."""

    def __init__(self, state: State, event: str) -> None:
        allowed = sorted(e for (s, e) in TRANSITIONS if s == state)
        reason = "unknown event" if event not in EVENTS else f"not allowed in state {state.value!r}"
        super().__init__(f"{event!r}: {reason} (allowed: {', '.join(allowed) or 'none'})")
        self.state, self.event = state, event


@dataclass(frozen=True)
class Transition:
    source: State
    event: str
    target: State


def next_state(state: State, event: str) -> Transition:
    """The transition `event` makes from `state`, or InvalidTransition."""
    state = State(state)
    try:
        return Transition(state, event, TRANSITIONS[(state, event)])
    except KeyError:
        raise InvalidTransition(state, event) from None


def allowed_events(state: State) -> list:
    return sorted(event for (source, event) in TRANSITIONS if source == State(state))
