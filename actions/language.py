"""The conversation's language, derived from the tracker (no extra state)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa_sdk import Tracker

TRUSTED_METHODS = {"visitor_choice", "hint"}


def message_language(parse_data: Dict[str, Any], metadata: Optional[Dict[str, Any]]) -> Optional[str]:
    """The language one user message settles, or None if it settles nothing.

    The visitor's explicit choice (`metadata.language`) wins; otherwise the
    detected language counts when the detector trusted it (a reliable
    detection, or the conversation's language passed as a hint).
    """
    if isinstance(metadata, dict) and isinstance(metadata.get("language"), str):
        return metadata["language"]
    language = parse_data.get("language")
    detection = parse_data.get("language_detection") or {}
    if isinstance(language, str) and (
        detection.get("reliable") or detection.get("method") in TRUSTED_METHODS
    ):
        return language
    return None


def conversation_language(tracker: Tracker, default: str = "en") -> str:
    """The language of the newest user message that settles one, else the
    `language` slot, else `default`. Short messages ("ok", "yes") settle
    nothing, so the conversation keeps its language."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        language = message_language(event.get("parse_data") or {}, event.get("metadata"))
        if language:
            return language
    return tracker.get_slot("language") or default
