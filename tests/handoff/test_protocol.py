"""handoff/protocol.py against docs/protocol.md."""

import re
from pathlib import Path

import pytest

from handoff import protocol
from handoff.protocol import Message, ProtocolError, Status, VisitorMessage

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")


def test_valid_visitor_message():
    message = VisitorMessage.parse({"text": "  আমার অর্ডার কোথায়  ", "client_id": "c-1"})
    assert message == VisitorMessage(text="আমার অর্ডার কোথায়", client_id="c-1")


@pytest.mark.parametrize(
    "payload, code",
    [
        ("hello", "bad_request"),
        ({"text": "hi"}, "bad_request"),
        ({"text": "hi", "client_id": ""}, "bad_request"),
        ({"text": "hi", "client_id": "a b"}, "bad_request"),
        ({"text": "hi", "client_id": "x" * 65}, "bad_request"),
        ({"text": 5, "client_id": "c"}, "bad_request"),
        ({"text": "   ", "client_id": "c"}, "empty"),
        ({"text": "a" * 4001, "client_id": "c"}, "too_long"),
        ({"text": "hi", "client_id": "c", "padding": "x" * 17000}, "too_long"),
        ({"text": "hi", "client_id": "c", "bad": {1, 2}}, "bad_request"),
    ],
)
def test_invalid_visitor_messages_get_the_documented_code(payload, code):
    with pytest.raises(ProtocolError) as error:
        VisitorMessage.parse(payload)
    assert error.value.code == code
    ack = error.value.as_ack()
    assert ack["ok"] is False and ack["error"]["code"] == code and ack["error"]["message"]


def test_text_of_exactly_the_limit_is_accepted():
    assert len(VisitorMessage.parse({"text": "a" * 4000, "client_id": "c"}).text) == 4000


def test_message_and_status_wire_format_match_the_doc():
    wire = Message("m1", "conv", "bot", "hi", "en", {"topic": "order_status"}).to_wire()
    assert list(wire) == ["id", "conversation_id", "sender", "text", "lang", "meta"]
    assert list(Status("queued", 2, 60).to_wire()) == ["state", "position", "eta_seconds", "agent"]
    for name in (
        "id",
        "conversation_id",
        "sender",
        "text",
        "lang",
        "meta",
        "state",
        "position",
        "eta_seconds",
    ):
        assert f'"{name}"' in DOC


def test_unknown_sender_is_rejected():
    with pytest.raises(ValueError):
        Message("m1", "conv", "robot", "hi", "en")


def test_every_error_code_and_event_is_documented():
    documented_codes = set(re.findall(r"^\| `([a-z_]+)` \| ", DOC, flags=re.M))
    assert protocol.ERROR_CODES <= documented_codes
    for event in (protocol.VISITOR_MESSAGE, protocol.MESSAGE, protocol.STATUS, protocol.ERROR):
        assert f"`{event}`" in DOC
    assert f"at most {protocol.MAX_TEXT_CHARS} characters" in DOC
    assert f"at most {protocol.MAX_PAYLOAD_BYTES // 1024} KiB" in DOC
