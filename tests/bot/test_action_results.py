"""bot/action_results.py: Rasa's action-response validation, with the schema compiled once."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions import action

from bot.action_results import install

ORIGINAL = action.RemoteAction._validate_action_result
REMOTE = action.RemoteAction("action_answer_faq", None)

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "lang", "value": "bn"}], "responses": [{"text": "hi"}]},
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"responses": {"text": "a dict, not a list"}},
]


@pytest.fixture(scope="module")
def installed():
    install()
    yield action.RemoteAction._validate_action_result
    action.RemoteAction._validate_action_result = ORIGINAL


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass_as_before(installed, result):
    assert ORIGINAL(REMOTE, result) is True
    assert installed(REMOTE, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_fail_with_rasas_error_as_before(installed, result):
    with pytest.raises(jsonschema.ValidationError) as before:
        ORIGINAL(REMOTE, result)
    with pytest.raises(jsonschema.ValidationError) as now:
        installed(REMOTE, result)
    assert now.value.message == before.value.message
    assert "Failed to validate Action server response" in now.value.message


def test_the_schema_is_checked_once_not_per_response(installed, monkeypatch):
    checks = []
    validator_class = jsonschema.validators.validator_for(action.RemoteAction.action_response_format_spec())
    monkeypatch.setattr(validator_class, "check_schema", classmethod(lambda cls, schema: checks.append(1)))
    for result in VALID * 3:
        installed(REMOTE, result)
    assert checks == []
    ORIGINAL(REMOTE, VALID[0])  # Rasa's own checks the schema on every call
    assert checks == [1]


def test_installing_twice_keeps_one_wrapper(installed):
    install()
    assert action.RemoteAction._validate_action_result is installed
