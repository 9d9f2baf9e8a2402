"""The service's own words to visitors (data/handoff_messages.yml), per language, English as fallback."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import yaml

DEFAULT_LANGUAGE = "en"


class Texts:
    def __init__(self, table: Dict[str, Dict[str, str]]) -> None:
        for key, versions in table.items():
            if DEFAULT_LANGUAGE not in versions:
                raise ValueError(f"handoff message {key!r} has no {DEFAULT_LANGUAGE!r} text")
        self.table = table

    @classmethod
    def load(cls, path: Path) -> Texts:
        with path.open(encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle) or {})

    def get(self, key: str, lang: str, **values: str) -> tuple:
        """(text, language it is in)."""
        versions = self.table[key]
        used = lang if versions.get(lang) else DEFAULT_LANGUAGE
        return versions[used].format(**values), used
