"""Retention deletes the attachments of the conversations it anonymises (real SQL log, real files)."""

from __future__ import annotations

import time
from datetime import date

import redis as redis_sync

from handoff.analytics import db
from handoff.analytics.metrics import DAY, epoch
from handoff.analytics.retention import apply_retention
from handoff.analytics.writer import STREAM
from handoff.attachments.storage import Attachment, LocalDirectory, new_attachment_id
from synthetic.script import Script
from tests.analytics.test_privacy import write_all


def test_retention_deletes_the_files_of_old_conversations(redis_url, database_url, tmp_path):
    now = epoch(date(2026, 11, 1))
    client = redis_sync.Redis.from_url(redis_url, decode_responses=True)
    cids = [f"c_{i:016x}" for i in (1, 2)]
    for cid, age in zip(cids, (40, 5), strict=True):  # days ago; retention 30 days: the first goes
        s = Script(cid, f"v{age}", now - age * DAY, "en")
        s.say("here is a photo").escalate("requested").wait(30).claim("asha").agent("asha", "thanks")
        s.wait(60).close("asha", "resolved")
        for entry in s.entries:
            client.xadd(STREAM, entry)
    client.close()
    write_all(redis_url, database_url)
    storage = LocalDirectory(tmp_path / "attachments")
    for cid in cids:
        for name in ("box.jpg", "receipt.pdf"):
            item = Attachment(new_attachment_id(), cid, name, "image/jpeg", 4, "visitor", time.time())
            storage.put(item, b"data")
    engine = db.make_engine(database_url)
    try:
        counts = apply_retention(engine, 30, "anonymise", now=now, attachments=storage)
        assert counts["conversations"] == 1 and counts["attachments"] == 2
        assert storage.list_conversation(cids[0]) == [] and not (tmp_path / "attachments" / cids[0]).exists()
        assert len(storage.list_conversation(cids[1])) == 2  # recent: kept
        assert apply_retention(engine, 30, "anonymise", now=now, attachments=storage)["attachments"] == 0
    finally:
        engine.dispose()
