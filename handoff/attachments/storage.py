"""Where attachments' bytes live: a small interface and its local-directory implementation.

    storage = LocalDirectory(settings.attachment_dir)   # HANDOFF_ATTACHMENTS_DIR
    storage.put(Attachment(...), data); storage.get(cid, aid); storage.delete(cid, aid)
    storage.list_conversation(cid); storage.delete_conversation(cid)

The local directory keeps one folder per conversation, `<root>/<cid>/<aid>` (the bytes, as checked
and re-encoded by checks.py) and `<aid>.json` (the metadata). Writes go to a temporary file that is
renamed into place, so a reader never sees half a file. Ids are checked against their patterns
before any path is built, so no id can leave the root. The methods block (file I/O): async callers
run them in a worker thread. Another backend (an object store) implements the same five methods.
Several service processes must see the same folder (one host, or a shared file system).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Protocol, Tuple

ATTACHMENT_ID = re.compile(r"^a_[0-9a-f]{16}$")
CONVERSATION_ID = re.compile(r"^c_[0-9a-f]{16}$")


def new_attachment_id() -> str:
    return "a_" + secrets.token_hex(8)


@dataclass(frozen=True)
class Attachment:
    """An attachment's reference: what a transcript message carries (`meta.attachment`)."""

    id: str
    conversation_id: str
    name: str
    type: str  # the content type of the stored bytes (image/jpeg, image/png, image/webp, image/gif, application/pdf)
    size: int
    sender: str  # visitor or agent
    at: float

    def to_wire(self) -> dict:
        return {"id": self.id, "name": self.name, "type": self.type, "size": self.size}

    @classmethod
    def from_json(cls, data: dict) -> Attachment:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def check_ids(cid: str, aid: Optional[str] = None) -> None:
    if not isinstance(cid, str) or not CONVERSATION_ID.match(cid):
        raise ValueError(f"not a conversation id: {cid!r}")
    if aid is not None and (not isinstance(aid, str) or not ATTACHMENT_ID.match(aid)):
        raise ValueError(f"not an attachment id: {aid!r}")


class AttachmentStorage(Protocol):
    def put(self, attachment: Attachment, data: bytes) -> None: ...

    def get(self, cid: str, aid: str) -> Optional[Tuple[Attachment, bytes]]: ...

    def delete(self, cid: str, aid: str) -> bool: ...

    def list_conversation(self, cid: str) -> List[Attachment]: ...

    def delete_conversation(self, cid: str) -> int: ...


class LocalDirectory:
    """AttachmentStorage in a local folder (created on the first write, mode 0700)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _folder(self, cid: str) -> Path:
        check_ids(cid)
        return self.root / cid

    def _write(self, path: Path, data: bytes) -> None:
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)

    def put(self, attachment: Attachment, data: bytes) -> None:
        check_ids(attachment.conversation_id, attachment.id)
        folder = self._folder(attachment.conversation_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._write(folder / attachment.id, data)  # the bytes first: metadata means "complete"
        self._write(folder / f"{attachment.id}.json", json.dumps(asdict(attachment)).encode("utf-8"))

    def meta(self, cid: str, aid: str) -> Optional[Attachment]:
        check_ids(cid, aid)
        try:
            return Attachment.from_json(json.loads((self._folder(cid) / f"{aid}.json").read_bytes()))
        except FileNotFoundError:
            return None

    def get(self, cid: str, aid: str) -> Optional[Tuple[Attachment, bytes]]:
        attachment = self.meta(cid, aid)
        if attachment is None:
            return None
        try:
            return attachment, (self._folder(cid) / aid).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, cid: str, aid: str) -> bool:
        check_ids(cid, aid)
        found = False
        for path in (self._folder(cid) / f"{aid}.json", self._folder(cid) / aid):
            try:
                path.unlink()
                found = True
            except FileNotFoundError:
                pass
        return found

    def list_conversation(self, cid: str) -> List[Attachment]:
        folder = self._folder(cid)
        if not folder.is_dir():
            return []
        found = []
        for path in folder.glob("a_*.json"):
            attachment = self.meta(cid, path.stem) if ATTACHMENT_ID.match(path.stem) else None
            if attachment is not None:
                found.append(attachment)
        return sorted(found, key=lambda a: (a.at, a.id))

    def delete_conversation(self, cid: str) -> int:
        """Every file of the conversation; returns how many attachments there were."""
        count = len(self.list_conversation(cid))
        shutil.rmtree(self._folder(cid), ignore_errors=True)
        return count


def export_files(storage: Optional[AttachmentStorage], cids: Iterable[str]) -> Dict[str, List[dict]]:
    """For a privacy export: each conversation's attachments, metadata and bytes (base64), so the
    export is complete on its own and does not depend on links that expire."""
    if storage is None:
        return {}
    found: Dict[str, List[dict]] = {}
    for cid in sorted(cids):
        for attachment in storage.list_conversation(cid) if CONVERSATION_ID.match(cid) else []:
            item = storage.get(cid, attachment.id)
            data = base64.b64encode(item[1]).decode("ascii") if item else None
            found.setdefault(cid, []).append({**asdict(attachment), "data_base64": data})
    return found


def erase_files(storage: Optional[AttachmentStorage], cids: Iterable[str]) -> int:
    """For erasure and retention: delete every file of these conversations; how many there were."""
    if storage is None:
        return 0
    return sum(storage.delete_conversation(cid) for cid in cids if CONVERSATION_ID.match(cid))
