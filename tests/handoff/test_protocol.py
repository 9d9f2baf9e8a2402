"""handoff/protocol.py against docs/protocol.md."""

import re
from pathlib import Path

import pytest

from handoff import protocol
from handoff.protocol import ProtocolError, Status, VisitorMessage, message_wire
from handoff.routes import ROUTES

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


STORED_AGENT_REPLY = {
    "seq": 3,
    "conversation_id": "c_0123456789abcdef",
    "sender": "agent",
    "text": "Your refund was sent today.",
    "lang": "en",
    "at": 1795000000.0,
    "meta": {"agent": {"name": "Asha"}},
    "translated": {"text": "আপনার রিফান্ড আজ পাঠানো হয়েছে।", "lang": "bn"},
}


def test_message_and_status_wire_format_match_the_doc():
    wire = message_wire(STORED_AGENT_REPLY, "visitor")
    assert list(wire) == ["id", "seq", "conversation_id", "sender", "text", "lang", "at", "meta"]
    assert wire["id"] == "c_0123456789abcdef:3"
    assert list(Status("queued", 2, 60).to_wire()) == ["state", "position", "eta_seconds", "agent", "offline"]
    for name in list(wire) + list(Status("bot").to_wire()):
        assert f'"{name}"' in DOC


def test_visitor_sees_the_translation_and_the_original_agent_sees_both():
    visitor = message_wire(STORED_AGENT_REPLY, "visitor")
    assert (visitor["text"], visitor["lang"]) == ("আপনার রিফান্ড আজ পাঠানো হয়েছে।", "bn")
    assert visitor["meta"]["machine_translated"] is True
    assert visitor["meta"]["original"] == {"text": "Your refund was sent today.", "lang": "en"}
    agent = message_wire(STORED_AGENT_REPLY, "agent")
    assert (agent["text"], agent["lang"]) == ("Your refund was sent today.", "en")
    assert agent["meta"]["translated"]["lang"] == "bn"
    stored_visitor = {**STORED_AGENT_REPLY, "sender": "visitor", "translated": None}
    stored_visitor["translation"] = {"text": "hello", "lang": "en"}
    assert "translation" not in message_wire(stored_visitor, "visitor")
    assert message_wire(stored_visitor, "agent")["translation"] == {"text": "hello", "lang": "en"}


def test_unknown_sender_is_rejected():
    with pytest.raises(ValueError):
        message_wire({**STORED_AGENT_REPLY, "sender": "robot"}, "visitor")


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"conversation_id": "c_0123456789abcdef", "text": "hi", "client_id": "a"}, None),
        ({"conversation_id": "../../etc", "text": "hi", "client_id": "a"}, "bad_request"),
        ({"conversation_id": "c_0123456789abcdef", "text": " ", "client_id": "a"}, "empty"),
        ({"conversation_id": "c_0123456789abcdef", "text": "x" * 4001, "client_id": "a"}, "too_long"),
        ({"conversation_id": "c_0123456789abcdef", "text": "hi"}, "bad_request"),
        ("not an object", "bad_request"),
    ],
)
def test_agent_message_validation(payload, code):
    if code is None:
        assert protocol.AgentMessage.parse(payload).text == "hi"
    else:
        with pytest.raises(ProtocolError) as error:
            protocol.AgentMessage.parse(payload)
        assert error.value.code == code


def test_close_needs_a_known_resolution_code():
    codes = frozenset({"resolved", "not_resolved", "follow_up"})
    ok = protocol.Close.parse({"conversation_id": "c_0123456789abcdef", "resolution": "resolved"}, codes)
    assert (ok.resolution, ok.note) == ("resolved", "")
    with pytest.raises(ProtocolError):
        protocol.Close.parse({"conversation_id": "c_0123456789abcdef", "resolution": "fixed"}, codes)


def _namespace_tables(namespace):
    """{"client": events, "server": events} of one namespace's section of docs/protocol.md."""
    section = DOC.split(f"## Namespace `{namespace}`", 1)[1].split("\n## ", 1)[0]
    tables = {}
    for direction, heading in (("client", "### Client -> server"), ("server", "### Server -> client")):
        body = section.split(heading, 1)[1].split("\n### ", 1)[0]
        tables[direction] = set(re.findall(r"^\| `([a-z_]+)` \| ", body, flags=re.M))
    return tables


@pytest.mark.parametrize("namespace", [protocol.CHAT_NAMESPACE, protocol.AGENT_NAMESPACE])
def test_every_client_event_has_a_route_and_a_doc_entry(namespace):
    """The route table (handoff/routes.py) and docs/protocol.md name the same client events, both ways."""
    documented = _namespace_tables(namespace)
    routed = set(ROUTES[namespace])
    assert routed == documented["client"], (
        f"routed but not documented: {sorted(routed - documented['client'])}; "
        f"documented but not routed: {sorted(documented['client'] - routed)}"
    )
    for event, route in ROUTES[namespace].items():
        assert callable(route.parse) and callable(route.handle), event
    assert set(protocol.SERVER_EVENTS[namespace]) == documented["server"]


def test_every_error_code_and_event_is_documented():
    documented_codes = set(re.findall(r"^\| `([a-z_]+)` \| ", DOC, flags=re.M))
    assert protocol.ERROR_CODES <= documented_codes
    events = [event for routes in ROUTES.values() for event in routes]
    events += [event for names in protocol.SERVER_EVENTS.values() for event in names]
    assert len(events) >= 25
    for event in events:
        assert f"`{event}`" in DOC, f"event {event!r} is not in docs/protocol.md"
    assert f"at most {protocol.MAX_TEXT_CHARS} characters" in DOC
    assert f"at most {protocol.MAX_PAYLOAD_BYTES // 1024} KiB" in DOC


@pytest.mark.parametrize(
    "parse, field, limit",
    [
        (
            lambda b: protocol.Close.parse(
                {"conversation_id": "c_0123456789abcdef", "resolution": "resolved", **b}
            ),
            "note",
            2000,
        ),
        (lambda b: protocol.Rating.parse({"score": 4, **b}), "comment", 2000),
        (protocol.visitor_info, "name", 200),
    ],
)
def test_optional_texts_are_checked_alike(parse, field, limit):
    """Close's note, a rating's comment and the pre-chat fields: absent or null is fine, a string is
    stripped, anything else (even 0 or false) is bad_request, over the limit too_long."""
    parse({})
    parse({field: None})
    assert " x " not in str(parse({field: " x "}))
    for bad, code in (
        (0, "bad_request"),
        (False, "bad_request"),
        ([], "bad_request"),
        ("x" * (limit + 1), "too_long"),
    ):
        with pytest.raises(ProtocolError) as error:
            parse({field: bad})
        assert error.value.code == code, (field, bad)
