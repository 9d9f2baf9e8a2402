"""The conversation state machine: bot -> queued -> assigned -> closed, and what each step writes.

Every conversation is in exactly one state. Only the steps in `STEPS` are
allowed; anything else raises `InvalidTransition` (the service turns that into
a protocol error, and nothing is stored).

    bot      --escalate-->  queued      the bot's handoff event (docs/handoff-event.md)
    bot      --end-------->  closed     resolved by the bot, idle, or the visitor left
    queued   --claim------>  assigned   an agent claims it (atomically)
    queued   --abandon---->  closed     the visitor left while waiting
    queued   --offline---->  closed     no agent: the visitor left a message (offline form)
    assigned --transfer--->  assigned   to another agent
    assigned --requeue---->  queued     the agent disconnected past the grace period
    assigned --handback--->  bot        the agent hands the visitor back to the bot
    assigned --close------>  closed     with a resolution code

`STEPS` is also the one place that says what a step does to the conversation's
memberships: the queue, the agents' chat sets, the visitor's open pointer and
the offline list. handoff/transitions.py turns a step into Redis writes and
`Store.transition` applies them in one Lua script, so these invariants hold
whoever calls (tests/handoff/test_transition_invariants.py walks random events):

- a conversation is in the queue if and only if it is `queued`;
- it is in an agent's chat set if and only if it is `assigned` to that agent;
- it is the visitor's open conversation if and only if it is not `closed`;
- it is in the offline list if and only if it was closed by `offline`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Dict, Optional, Tuple


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


RESOLUTION_CODES = frozenset(r.value for r in Resolution)


class Queue(StrEnum):
    ENTER = "enter"  # joins the queue; score = queued_at (a requeued chat keeps its place)
    LEAVE = "leave"


class Chats(StrEnum):
    ASSIGN = "assign"  # to the receiving agent (guarded: nobody had it, the agent has free capacity)
    MOVE = "move"  # from its agent to the receiving agent (guarded: still its agent; free capacity)
    RELEASE = "release"  # from its agent; the `agent` field is cleared (guarded: still its agent)
    DROP = "drop"  # from its agent; the `agent` field is kept as history (guarded: still its agent)


@dataclass(frozen=True)
class Step:
    """One allowed transition and the memberships it changes."""

    source: State
    event: str
    target: State
    queue: Optional[Queue] = None
    chats: Optional[Chats] = None
    offline_list: bool = False  # joins the list of conversations closed through the offline form

    @property
    def clears_open_pointer(self) -> bool:
        """Closing: the visitor's next message opens a new conversation (closed_at is set too)."""
        return self.target is State.CLOSED

    @property
    def needs_agent(self) -> bool:
        """Whether the caller must name the agent who receives the conversation."""
        return self.chats in (Chats.ASSIGN, Chats.MOVE)


STEPS: Tuple[Step, ...] = (
    Step(State.BOT, "escalate", State.QUEUED, queue=Queue.ENTER),
    Step(State.BOT, "end", State.CLOSED),
    Step(State.QUEUED, "claim", State.ASSIGNED, queue=Queue.LEAVE, chats=Chats.ASSIGN),
    Step(State.QUEUED, "abandon", State.CLOSED, queue=Queue.LEAVE),
    Step(State.QUEUED, "offline", State.CLOSED, queue=Queue.LEAVE, offline_list=True),
    Step(State.ASSIGNED, "transfer", State.ASSIGNED, chats=Chats.MOVE),
    Step(State.ASSIGNED, "requeue", State.QUEUED, queue=Queue.ENTER, chats=Chats.RELEASE),
    Step(State.ASSIGNED, "handback", State.BOT, chats=Chats.RELEASE),
    Step(State.ASSIGNED, "close", State.CLOSED, chats=Chats.DROP),
)
_BY_KEY: Dict[Tuple[State, str], Step] = {(step.source, step.event): step for step in STEPS}
TRANSITIONS: Dict[Tuple[State, str], State] = {key: step.target for key, step in _BY_KEY.items()}
EVENTS = frozenset(event for _, event in TRANSITIONS)


class InvalidTransition(ValueError):
    """An event that the conversation's current state does not allow."""

    def __init__(self, state: State, event: str) -> None:
        allowed = sorted(e for (s, e) in TRANSITIONS if s == state)
        reason = "unknown event" if event not in EVENTS else f"not allowed in state {state.value!r}"
        super().__init__(f"{event!r}: {reason} (allowed: {', '.join(allowed) or 'none'})")
        self.state, self.event = state, event


def next_state(state: State, event: str) -> Step:
    """The step `event` makes from `state`, or InvalidTransition."""
    state = State(state)
    try:
        return _BY_KEY[(state, event)]
    except KeyError:
        raise InvalidTransition(state, event) from None


def allowed_events(state: State) -> list:
    return sorted(event for (source, event) in TRANSITIONS if source == State(state))
