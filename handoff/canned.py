"""Agents' canned replies, per language (data/handoff/canned_replies.yml, HANDOFF_CANNED_REPLIES)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import yaml


@dataclass
class CannedReply:
    id: str
    title: str
    texts: Dict[str, str]  # language -> text


def load_canned_replies(path: Path) -> List[CannedReply]:
    """Every reply needs an English text; the title defaults to the key."""
    with path.open(encoding="utf-8") as handle:
        table = yaml.safe_load(handle) or {}
    replies = []
    for key, entry in table.items():
        texts = {code: text for code, text in entry.items() if code != "title" and isinstance(text, str)}
        if "en" not in texts:
            raise ValueError(f"{path}: canned reply {key!r} has no English text")
        replies.append(CannedReply(id=key, title=str(entry.get("title") or key), texts=texts))
    return replies
