"""The pre-chat form's name, email and phone in the SQL log (issue 12): written by the real writer
from the real Store's visitor entries, searchable by any agent (part of a name, an email, a phone
number, any case), exported and erased with the customer (found by it even once the Redis visitor
record is gone), blanked by retention. SQLite and PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from handoff.analytics import db
from handoff.analytics.models import Event, Visitor
from handoff.analytics.privacy import delete_customer, export_customer
from handoff.analytics.retention import apply_retention
from handoff.analytics.search import SearchError, SearchQuery, conversation, search
from handoff.store import Store
from tests.analytics.test_privacy import write_all

RINA = {"name": "Rina Das", "email": "Rina.Das@Example.com", "phone": "+91 98765 43210"}
OTHER = {"name": "রিনা সেন", "email": "other_person@example.org"}


async def visitors_with_forms(store: Store) -> dict:
    cids = {}
    for vid, info in (("v_rina", RINA), ("v_sen", OTHER), ("v_none", None)):
        await store.touch_visitor(vid, language="en", **({"info": json.dumps(info)} if info else {}))
        conv, _ = await store.open_or_create(vid, "en")
        await store.append(conv.id, {"conversation_id": conv.id, "sender": "visitor", "text": f"hi {vid}"})
        cids[vid] = conv.id
    return cids


def found(engine, **args) -> list:
    with db.sessions(engine)() as session:
        return [c["conversation_id"] for c in search(session, SearchQuery.parse(args))]


async def test_search_by_name_email_or_phone(redis_url, redis_client, database_url):
    cids = await visitors_with_forms(Store(redis_client))
    write_all(redis_url, database_url)
    engine = db.make_engine(database_url)
    try:
        with db.sessions(engine)() as session:
            rina = session.get(Visitor, "v_rina")
            assert (rina.name, rina.email, rina.phone) == ("Rina Das", "rina.das@example.com", RINA["phone"])
            assert session.get(Visitor, "v_none").email is None
        assert found(engine, contact="rina das") == [cids["v_rina"]]
        assert found(engine, contact="DAS@example") == [cids["v_rina"]]
        assert found(engine, contact="98765 43210") == [cids["v_rina"]]
        assert found(engine, contact="রিনা") == [cids["v_sen"]]
        assert found(engine, contact="other_person") == [cids["v_sen"]]  # `_` is not a wildcard
        assert found(engine, contact="r_na") == []
        assert found(engine, contact="nobody@example.com") == []
        assert found(engine, contact="rina", visitor="v_sen") == []
        with db.sessions(engine)() as session:
            hit = search(session, SearchQuery.parse({"contact": "rina.das"}))[0]
            assert (hit["visitor_name"], hit["visitor_email"]) == ("Rina Das", "rina.das@example.com")
            whole = conversation(session, cids["v_rina"])
            assert whole["visitor_name"] == "Rina Das"
        try:
            SearchQuery.parse({"contact": "x" * 201})
        except SearchError as exc:
            assert "contact" in str(exc)
        else:
            raise AssertionError("a 201-character contact was accepted")
        # a new pre-chat form replaces the old one as a whole, as in the visitor record
        await Store(redis_client).touch_visitor("v_rina", info=json.dumps({"name": "Rina D."}))
        write_all(redis_url, database_url)
        with db.sessions(engine)() as session:
            rina = session.get(Visitor, "v_rina")
            assert (rina.name, rina.email, rina.phone) == ("Rina D.", None, None)
        assert found(engine, contact="rina.das@example.com") == []
    finally:
        engine.dispose()


async def test_export_and_erasure_find_the_customer_by_the_logged_email(
    redis_url, redis_client, database_url
):
    cids = await visitors_with_forms(Store(redis_client))
    write_all(redis_url, database_url)
    await redis_client.delete("visitor:v_rina")  # only the SQL log still knows her email
    engine = db.make_engine(database_url)
    try:
        exported = await export_customer(engine, redis_client, "RINA.DAS@example.com")
        assert exported["visitor_ids"] == ["v_rina"] and exported["conversation_ids"] == [cids["v_rina"]]
        assert exported["sql"]["visitors"][0]["email"] == "rina.das@example.com"
        by_phone = await export_customer(engine, redis_client, "9876543210")
        assert by_phone["visitor_ids"] == ["v_rina"]
        erased = await delete_customer(engine, redis_client, "rina.das@example.com")
        assert erased["visitor_ids"] == ["v_rina"] and erased["sql"]["visitors"] == 1
        with db.sessions(engine)() as session:
            assert session.get(Visitor, "v_rina") is None
            raw = [json.dumps(e.body) for e in session.scalars(select(Event))]
            assert raw and not any("Rina" in body or "98765" in body for body in raw)
            assert session.get(Visitor, "v_sen").name == OTHER["name"]
    finally:
        engine.dispose()


async def test_retention_blanks_the_form_of_visitors_with_no_kept_conversation(
    redis_url, redis_client, database_url
):
    store = Store(redis_client)
    cids = await visitors_with_forms(store)
    for vid in ("v_rina", "v_sen"):
        conv = await store.get(cids[vid])
        await store.transition(conv, "end", {"closed_at": repr(time.time())})
    write_all(redis_url, database_url)
    engine = db.make_engine(database_url)
    try:
        counts = apply_retention(engine, 30, "anonymise", now=time.time() + 31 * 86400)
        assert counts["conversations"] == 2
        with db.sessions(engine)() as session:
            for vid in ("v_rina", "v_sen"):  # the visitor records go, form and all
                assert session.get(Visitor, vid) is None
            left = session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.visitor_id.in_(["v_rina", "v_sen"]), Event.type == "visitor")
            )
            assert left == 0
        assert found(engine, contact="rina") == []
    finally:
        engine.dispose()
