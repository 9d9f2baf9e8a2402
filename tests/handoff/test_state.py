"""The conversation state machine (handoff/state.py)."""

import itertools

import pytest

from handoff.state import EVENTS, TRANSITIONS, InvalidTransition, State, allowed_events, next_state


@pytest.mark.parametrize(
    "path, final",
    [
        (["escalate", "claim", "close"], State.CLOSED),  # the whole escalation path
        (["escalate", "claim", "handback"], State.BOT),
        (["escalate", "claim", "handback", "escalate", "claim", "close"], State.CLOSED),
        (["escalate", "abandon"], State.CLOSED),
        (["escalate", "offline"], State.CLOSED),
        (["escalate", "claim", "transfer", "transfer", "close"], State.CLOSED),
        (["escalate", "claim", "requeue", "claim", "close"], State.CLOSED),
        (["end"], State.CLOSED),
    ],
)
def test_paths(path, final):
    state = State.BOT
    for event in path:
        state = next_state(state, event).target
    assert state is final


# Written out from docs/protocol.md ("Conversation states"), not read from the table under test.
ALLOWED = {
    ("bot", "escalate"): "queued",
    ("bot", "end"): "closed",
    ("queued", "claim"): "assigned",
    ("queued", "abandon"): "closed",
    ("queued", "offline"): "closed",
    ("assigned", "transfer"): "assigned",
    ("assigned", "requeue"): "queued",
    ("assigned", "handback"): "bot",
    ("assigned", "close"): "closed",
}
ALL_EVENTS = ("escalate", "end", "claim", "abandon", "offline", "transfer", "requeue", "handback", "close")


def test_every_other_pair_is_rejected():
    assert set(EVENTS) == set(ALL_EVENTS) and len(TRANSITIONS) == len(ALLOWED)
    for state, event in itertools.product(("bot", "queued", "assigned", "closed"), ALL_EVENTS):
        if (state, event) in ALLOWED:
            assert next_state(State(state), event).target == ALLOWED[(state, event)]
            continue
        with pytest.raises(InvalidTransition):
            next_state(State(state), event)


def test_closed_is_final():
    assert allowed_events(State.CLOSED) == []
    with pytest.raises(InvalidTransition, match="not allowed in state 'closed'"):
        next_state(State.CLOSED, "claim")


def test_unknown_event_is_named_in_the_error():
    with pytest.raises(InvalidTransition, match="'teleport': unknown event"):
        next_state(State.BOT, "teleport")


def test_states_are_strings_on_the_wire():
    assert next_state("queued", "claim").target == "assigned"
