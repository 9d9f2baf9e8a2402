"""Scripted conversations as outbox entries: exactly the entries handoff/store.py appends to
`log:events` for the same steps (handoff/visitor_desk.py, agent_desk.py, bot_turn.py), at chosen times.

Used by the seed command (synthetic data, written straight to SQL) and by the tests (appended to a
real Redis stream and consumed by the real writer). Never used by the live service.

    s = Script("c1", "v1", at=t0, language="en", verified_id="cust-7")
    s.say("where is my refund").bot("...", topic="refund_status").wait(30).escalate("answer_not_helpful")
    s.wait(60).claim("asha").agent("asha", "hello").wait(120).close("asha", "resolved").rate(5, True)
    s.entries  # [(fields), ...] with type, cid, vid, at, body (JSON)
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional


class Script:
    def __init__(
        self,
        cid: str,
        vid: str,
        at: float,
        language: str = "en",
        verified_id: Optional[str] = None,
        info: Optional[Dict[str, str]] = None,
    ) -> None:
        self.cid, self.vid, self.t, self.language = cid, vid, at, language
        self.entries: List[Dict[str, str]] = []
        self.seq = 0
        self.agent_name = ""
        self.state = "bot"
        visitor = {"language": language}
        if verified_id:
            visitor["verified_id"] = verified_id
        if info:  # the pre-chat form (name, email, phone), as the visitor record holds it
            visitor["info"] = json.dumps(info, ensure_ascii=False)
        self._add("visitor", visitor, cid="")
        self._add("conversation", {"state": "bot", "language": language, "created_at": at})

    def _add(self, kind: str, body: Dict[str, Any], cid: Optional[str] = None) -> Script:
        self.entries.append(
            {
                "type": kind,
                "cid": self.cid if cid is None else cid,
                "vid": self.vid,
                "at": repr(self.t),
                "body": json.dumps(body, ensure_ascii=False),
            }
        )
        return self

    def wait(self, seconds: float) -> Script:
        self.t += seconds
        return self

    def _message(self, sender: str, text: str, lang: Optional[str], meta: Dict[str, Any]) -> Script:
        self.seq += 1
        body = {
            "seq": self.seq,
            "conversation_id": self.cid,
            "sender": sender,
            "text": text,
            "lang": lang,
            "meta": meta,
            "at": self.t,
        }
        return self._add("message", body)

    def say(self, text: str) -> Script:
        return self._message("visitor", text, self.language, {})

    def bot(self, text: str, topic: Optional[str] = None, confidence: float = 0.9, reply: str = "") -> Script:
        meta: Dict[str, Any] = {"reply": reply or (f"faq/{topic}" if topic else "utter_default")}
        if topic:
            meta.update(topic=topic, intent_confidence=confidence)
        return self._message("bot", text, self.language, meta)

    def agent(self, name: str, text: str, translated: Optional[str] = None) -> Script:
        self._message("agent", text, "en", {"agent": {"name": name.capitalize()}})
        if translated:
            body = json.loads(self.entries[-1]["body"])
            body["translated"] = {"text": translated, "lang": self.language}
            self.entries[-1]["body"] = json.dumps(body, ensure_ascii=False)
        return self

    def translate(self, seq: int, text: str, lang: str = "en") -> Script:
        return self._add("message_update", {"seq": seq, "translation": {"text": text, "lang": lang}})

    def _transition(self, event: str, target: str, fields: Dict[str, Any]) -> Script:
        body = {"event": event, "from": self.state, "to": target, "fields": fields}
        self.state = target
        return self._add("transition", body)

    def bot_resolve(self, topic: str) -> Script:
        return self._add("conversation", {"bot_resolution": {"by": "bot", "topic": topic, "at": self.t}})

    def escalate(self, reason: str = "requested", topic: Optional[str] = None) -> Script:
        escalation: Dict[str, Any] = {"reason": reason, "language": self.language}
        if topic:
            escalation.update(type="handoff", version=1, faq_topic=topic)
        else:
            escalation["source"] = "service"
        fields = {"queued_at": self.t, "escalation": escalation, "language": self.language}
        return self._transition("escalate", "queued", fields)

    def claim(self, agent: str) -> Script:
        self.agent_name = agent
        return self._transition("claim", "assigned", {"agent": agent, "claimed_at": self.t})

    def transfer(self, to: str) -> Script:
        self.agent_name = to
        return self._transition("transfer", "assigned", {"agent": to, "translation": None})

    def requeue(self) -> Script:
        self.agent_name = ""
        return self._transition("requeue", "queued", {"agent": None, "claimed_at": None, "translation": None})

    def handback(self) -> Script:
        self.agent_name = ""
        return self._transition("handback", "bot", {"agent": None, "translation": None})

    def close(self, by: str, code: str = "resolved", note: str = "") -> Script:
        resolution = {"code": code, "note": note, "by": by, "at": self.t}
        return self._transition("close", "closed", {"resolution": resolution, "closed_at": self.t})

    def visitor_left(self) -> Script:
        """The visitor closed the window (`leave`): end, abandon or close depending on the state."""
        if self.state == "bot":
            return self._transition("end", "closed", {"closed_at": self.t})
        if self.state == "queued":
            return self._transition("abandon", "closed", {"closed_at": self.t})
        resolution = {"code": None, "by": "visitor", "note": "the visitor left", "at": self.t}
        return self._transition("close", "closed", {"closed_at": self.t, "resolution": resolution})

    def offline(self, contact: str, text: str) -> Script:
        self._message("visitor", text, self.language, {"offline": True, "contact": contact})
        offline = {"contact": contact, "text": text, "at": self.t}
        return self._transition("offline", "closed", {"offline": offline, "closed_at": self.t})

    def rate(self, score: int, resolved: Optional[bool] = None, comment: str = "") -> Script:
        rating = {"score": score, "comment": comment, "resolved": resolved, "at": self.t}
        return self._add("conversation", {"rating": rating})
