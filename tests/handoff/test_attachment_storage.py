"""handoff/attachments/storage.py and links.py on real files in tmp_path."""

from __future__ import annotations

import time

import pytest

from handoff.attachments.links import BadLink, LinkSigner
from handoff.attachments.storage import (
    Attachment,
    LocalDirectory,
    erase_files,
    export_files,
    new_attachment_id,
)

CID, OTHER = "c_" + "1" * 16, "c_" + "2" * 16


def attachment(cid: str = CID, name: str = "a.png") -> Attachment:
    return Attachment(new_attachment_id(), cid, name, "image/png", 3, "visitor", time.time())


def test_put_get_list_delete(tmp_path):
    storage = LocalDirectory(tmp_path / "files")
    first, second, other = attachment(), attachment(name="b.png"), attachment(OTHER)
    for item, data in ((first, b"one"), (second, b"two"), (other, b"oth")):
        storage.put(item, data)
    assert storage.get(CID, first.id) == (first, b"one")
    assert [a.id for a in storage.list_conversation(CID)] == [first.id, second.id]
    assert (tmp_path / "files" / CID / first.id).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "files" / CID).stat().st_mode & 0o777 == 0o700
    assert not list((tmp_path / "files" / CID).glob(".*"))  # no temporary file left
    assert storage.delete(CID, first.id) and not storage.delete(CID, first.id)
    assert storage.get(CID, first.id) is None
    assert storage.delete_conversation(CID) == 1 and storage.list_conversation(CID) == []
    assert storage.get(OTHER, other.id) == (other, b"oth")


def test_ids_cannot_leave_the_root(tmp_path):
    storage = LocalDirectory(tmp_path)
    for cid, aid in (("../etc", "a_" + "0" * 16), (CID, "../../x"), (CID, "a_zz")):
        with pytest.raises(ValueError):
            storage.get(cid, aid)


def test_export_and_erase(tmp_path):
    storage = LocalDirectory(tmp_path)
    item = attachment()
    storage.put(item, b"\x89PNG")
    exported = export_files(storage, {CID, OTHER})
    assert exported == {CID: [{**exported[CID][0], "data_base64": "iVBORw=="}]}
    assert exported[CID][0]["id"] == item.id and exported[CID][0]["name"] == "a.png"
    assert erase_files(storage, [CID, OTHER, "not-an-id"]) == 1
    assert not (tmp_path / CID).exists() and export_files(storage, [CID]) == {}
    assert export_files(None, [CID]) == {} and erase_files(None, [CID]) == 0


def test_links_are_signed_and_expire():
    now = [1_000_000.0]
    signer = LinkSigner(b"s" * 32, ttl=900, clock=lambda: now[0])
    link = signer.link(CID, "a_" + "0" * 16)
    assert link["expires_at"] == 1_000_900
    query = dict(part.split("=") for part in link["url"].split("?")[1].split("&"))
    signer.verify(CID, "a_" + "0" * 16, query["exp"], query["sig"])  # genuine
    tampered = [
        (OTHER, "a_" + "0" * 16, query["exp"], query["sig"]),  # another conversation
        (CID, "a_" + "1" * 16, query["exp"], query["sig"]),  # another file
        (CID, "a_" + "0" * 16, str(int(query["exp"]) + 3600), query["sig"]),  # a longer life
        (CID, "a_" + "0" * 16, query["exp"], query["sig"][:-1] + "0"),
        (CID, "a_" + "0" * 16, "-1", query["sig"]),
        (CID, "a_" + "0" * 16, query["exp"], ""),
    ]
    for args in tampered:
        with pytest.raises(BadLink) as bad:
            signer.verify(*args)
        assert bad.value.reason == "bad_signature"
    with pytest.raises(BadLink):  # another secret
        LinkSigner(b"t" * 32, clock=lambda: now[0]).verify(CID, "a_" + "0" * 16, query["exp"], query["sig"])
    now[0] += 900
    with pytest.raises(BadLink) as bad:
        signer.verify(CID, "a_" + "0" * 16, query["exp"], query["sig"])
    assert bad.value.reason == "expired"
