"""An upload becomes a transcript message; who may fetch which attachment.

A visitor may send a file while a person is in their chat or they wait for one (`queued`,
`assigned`): the bot reads no files, and a closed chat has no one to read it. An agent may send one
into a conversation assigned to them. The message is a normal transcript message (sender `visitor`
or `agent`, text = the file's name) with `meta.attachment` = `{id, name, type, size}`: stored in
Redis, logged to SQL by the writer like every message, announced to the visitor and the agent.
Translation does not apply to files.

Links: the conversation's visitor gets links to that conversation's files only; agents (any role)
to any conversation's files, as they can read any transcript in the console's search.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

from handoff import keyspace, lua
from handoff.attachments.checks import Limits, check_file
from handoff.attachments.links import LinkSigner
from handoff.attachments.storage import Attachment, AttachmentStorage, new_attachment_id
from handoff.http_edge import HttpError
from handoff.state import State
from handoff.store import Conflict, LiveConversation, Store
from handoff.transcript import Transcript

VISITOR_STATES = (State.QUEUED, State.ASSIGNED)
SLOT_FIELD = "files"  # the conversation hash's count of files kept (lua.FILE_SLOT)


@dataclass(frozen=True)
class Upload:
    data: bytes
    name: str
    client_id: str = ""


class AttachmentDesk:
    def __init__(
        self,
        store: Store,
        transcript: Transcript,
        storage: AttachmentStorage,
        links: LinkSigner,
        limits: Limits,
        per_conversation: int = 20,
    ) -> None:
        self.store, self.transcript, self.storage = store, transcript, storage
        self.links, self.limits, self.per_conversation = links, limits, per_conversation

    async def _file_slot(self, cid: str, delta: int) -> int:
        """Take (+1) or give back (-1) one of the conversation's file slots, atomically in Redis, so
        two uploads at once on any processes cannot pass the cap."""
        cap = str(self.per_conversation or 0)
        args = (SLOT_FIELD, cap, str(delta))
        return int(await self.store.redis.eval(lua.FILE_SLOT, 1, keyspace.conversation(cid), *args))

    async def _keep(self, conv: LiveConversation, sender: str, upload: Upload) -> Attachment:
        taken = await self._file_slot(conv.id, 1)
        if taken == -1:
            raise HttpError(409, "invalid_state", "the conversation changed; nothing was sent")
        if taken == -2:
            raise HttpError(409, "too_many_files", f"a conversation can hold {self.per_conversation} files")
        try:
            cleaned = await asyncio.to_thread(check_file, upload.data, upload.name, self.limits)
        except BaseException:
            await self._file_slot(conv.id, -1)
            raise
        attachment = Attachment(
            id=new_attachment_id(),
            conversation_id=conv.id,
            name=cleaned.name,
            type=cleaned.type,
            size=len(cleaned.data),
            sender=sender,
            at=time.time(),
        )
        try:
            await asyncio.to_thread(self.storage.put, attachment, cleaned.data)
        except BaseException:
            await self._file_slot(conv.id, -1)
            raise
        return attachment

    async def _post(
        self,
        conv: LiveConversation,
        sender: str,
        upload: Upload,
        meta: Dict[str, Any],
        expect: tuple,
    ) -> Dict[str, Any]:
        attachment = await self._keep(conv, sender, upload)
        try:
            stored, fresh = await self.transcript.add(
                conv,
                sender,
                attachment.name,
                conv.language or None,
                {**meta, "attachment": attachment.to_wire()},
                client_id=upload.client_id,
                expect=expect,
            )
        except Conflict:
            await self._discard(conv.id, attachment.id)
            raise HttpError(409, "invalid_state", "the conversation changed; nothing was sent") from None
        except BaseException:
            await self._discard(conv.id, attachment.id)
            raise
        if not fresh:  # a retried client_id: the first upload's message stands
            await self._discard(conv.id, attachment.id)
        return {
            "ok": True,
            "id": f"{conv.id}:{stored['seq']}",
            "seq": stored["seq"],
            "conversation_id": conv.id,
            "attachment": (stored.get("meta") or {}).get("attachment"),
        }

    async def _discard(self, cid: str, aid: str) -> None:
        await asyncio.to_thread(self.storage.delete, cid, aid)
        await self._file_slot(cid, -1)

    async def from_visitor(self, vid: str, upload: Upload) -> Dict[str, Any]:
        cid = await self.store.open_conversation_id(vid)
        conv = await self.store.get(cid) if cid else None
        if conv is None or conv.state not in VISITOR_STATES:
            raise HttpError(
                409,
                "no_conversation",
                "files can be sent while you wait for a person or talk to one",
            )
        return await self._post(conv, "visitor", upload, {}, (("state", conv.state.value),))

    async def from_agent(self, agent: Any, cid: str, upload: Upload) -> Dict[str, Any]:
        conv = await self.store.get(cid)
        if conv is None:
            raise HttpError(404, "not_found", f"no conversation {cid}")
        if conv.agent != agent.username or conv.state is not State.ASSIGNED:
            raise HttpError(403, "forbidden", "this conversation is not assigned to you")
        expect = (("state", State.ASSIGNED.value), ("agent", agent.username))
        return await self._post(conv, "agent", upload, {"agent": {"name": agent.display_name}}, expect)

    async def link(self, cid: str, aid: str, visitor: Optional[str]) -> Dict[str, Any]:
        """A fresh link for the conversation's visitor (`visitor` = their id) or an agent (None)."""
        if visitor is not None:
            conv = await self.store.get(cid)
            if conv is None or conv.visitor_id != visitor:
                raise HttpError(403, "forbidden", "this file is not in your conversation")
        meta = await asyncio.to_thread(self.storage.list_conversation, cid)
        attachment = next((a for a in meta if a.id == aid), None)
        if attachment is None:
            raise HttpError(404, "not_found", "no such file (it may have been deleted)")
        return {"ok": True, **self.links.link(cid, aid), "attachment": attachment.to_wire()}
