"""Agents' canned replies, per language: the file (data/handoff/canned_replies.yml,
HANDOFF_CANNED_REPLIES), and what admins change in the console, kept in Redis (`CannedEdits`: a reply
added, changed or removed per id and language; the file stays as shipped)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import yaml
from redis.asyncio import Redis

from handoff import keyspace


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


class CannedEdits:
    """Admins' changes (Redis hash `canned:edits`: `<id>|<lang>` -> {title, text, by, at} or
    {deleted, by, at}) over the file's replies."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def save(self, reply_id: str, lang: str, title: str, text: str, by: str) -> None:
        entry = {"title": title, "text": text, "by": by, "at": time.time()}
        await self.redis.hset(
            keyspace.CANNED_EDITS, f"{reply_id}|{lang}", json.dumps(entry, ensure_ascii=False)
        )

    async def delete(self, reply_id: str, lang: str, by: str) -> None:
        entry = {"deleted": True, "by": by, "at": time.time()}
        await self.redis.hset(keyspace.CANNED_EDITS, f"{reply_id}|{lang}", json.dumps(entry))

    async def effective(self, shipped: List[CannedReply]) -> List[Dict[str, str]]:
        """[{id, title, text, lang}]: the file's replies with the admins' changes applied, sorted."""
        table: Dict[tuple, Dict[str, str]] = {}
        for reply in shipped:
            for code, text in reply.texts.items():
                table[(reply.id, code)] = {"id": reply.id, "title": reply.title, "text": text, "lang": code}
        for key, raw in (await self.redis.hgetall(keyspace.CANNED_EDITS)).items():
            reply_id, _, code = key.partition("|")
            entry = json.loads(raw)
            if entry.get("deleted"):
                table.pop((reply_id, code), None)
            else:
                table[(reply_id, code)] = {
                    "id": reply_id,
                    "title": entry["title"],
                    "text": entry["text"],
                    "lang": code,
                }
        return [table[k] for k in sorted(table)]
