"""How an erasure request finds a customer by email or phone: the pre-chat `info` of a visitor
record and the offline form's `contact` (handoff/analytics/privacy.py)."""

from __future__ import annotations

import json
import re
from typing import Any, Optional, Set


def contact_key(value: Any) -> str:
    """An email or phone number as erasure requests spell it: emails in lower case, phone numbers
    as their digits (at least 6); '' for anything else."""
    text = str(value or "").strip()
    if "@" in text:
        return text.lower()
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= 6 else ""


def contacts_in(raw: Optional[str]) -> Set[str]:
    """The contact keys in a JSON field: pre-chat `info` ({name, email, phone}) or `offline`."""
    try:
        data = json.loads(raw or "null")
    except ValueError:
        return set()
    if not isinstance(data, dict):
        return set()
    return {contact_key(data.get(k)) for k in ("email", "phone", "contact")} - {""}


def matches(wanted: str, raw: Optional[str]) -> bool:
    """Whether the JSON field `raw` holds the contact key `wanted`: an email exactly, a phone number
    with or without its country code (one number's digits end the other's, 8 digits at least)."""
    for key in contacts_in(raw):
        if key == wanted:
            return True
        if "@" not in key and "@" not in wanted and min(len(key), len(wanted)) >= 8:
            if key.endswith(wanted) or wanted.endswith(key):
                return True
    return False
