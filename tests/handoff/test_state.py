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


def test_every_other_pair_is_rejected():
    for state, event in itertools.product(State, sorted(EVENTS)):
        if (state, event) in TRANSITIONS:
            continue
        with pytest.raises(InvalidTransition):
            next_state(state, event)


def test_closed_is_final():
    assert allowed_events(State.CLOSED) == []
    with pytest.raises(InvalidTransition, match="not allowed in state 'closed'"):
        next_state(State.CLOSED, "claim")


def test_unknown_event_is_named_in_the_error():
    with pytest.raises(InvalidTransition, match="'teleport': unknown event"):
        next_state(State.BOT, "teleport")


def test_states_are_strings_on_the_wire():
    assert next_state("queued", "claim").target == "assigned"
