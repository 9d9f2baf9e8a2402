"""Rasa checks every action server response against one JSON schema: compile it once.

Rasa 3.6 (`RemoteAction._validate_action_result`) calls `jsonschema.validate`
on each response, which first checks the schema itself against its
metaschema, every time. The schema is Rasa's constant, so that check was a
quarter of the Rasa server's CPU time per conversation turn (py-spy, `python
-m bench.parse_latency`). `install()` swaps in the same validation with a
validator built, and its schema checked, once: a response is accepted or
rejected exactly as before, with Rasa's error message. Called by
scripts/rasa_serve.py before Rasa starts.
"""

from __future__ import annotations

from typing import Any, Callable, Dict


def compiled_validation(schema: Dict[str, Any]) -> Callable[[Dict[str, Any]], None]:
    """`jsonschema.validate(instance, schema)` with the schema checked and compiled now."""
    from jsonschema import exceptions, validators

    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def validate(instance: Dict[str, Any]) -> None:
        error = exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    return validate


def install() -> None:
    """Validate action server responses in Rasa with a validator compiled once."""
    from jsonschema import ValidationError
    from rasa.core.actions import action

    remote = action.RemoteAction
    if getattr(remote._validate_action_result, "compiled_once", False):
        return
    validate = compiled_validation(remote.action_response_format_spec())

    def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
        try:
            validate(result)
            return True
        except ValidationError as e:  # Rasa's own message (rasa/core/actions/action.py)
            e.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                "For more information about the format visit "
                f"{action.DOCS_BASE_URL}/custom-actions"
            )
            raise e

    _validate_action_result.compiled_once = True  # type: ignore[attr-defined]
    remote._validate_action_result = _validate_action_result
