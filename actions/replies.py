"""Replies in the conversation's language.

For a text authored per language (an FAQ answer, a response from
data/responses.yml) the reply is, in order of preference:
1. the authored text in the conversation's language;
2. the English text machine-translated by the translator service, when a
   model for English -> that language is installed, marked as such;
3. the English text, after a short apology in that language when one is
   authored, with an offer of a human.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from bot.content import Content
from translator.client import TranslationUnavailable, TranslatorClient


@dataclass
class Reply:
    text: str
    lang: str  # the language the text is in
    requested_lang: str  # the conversation's language
    machine_translated: bool = False
    offer_human: bool = False  # the visitor's language is not served: offer a person
    notes: List[str] = field(default_factory=list)

    def meta(self, **extra: Any) -> Dict[str, Any]:
        meta = {
            "lang": self.lang,
            "requested_lang": self.requested_lang,
            "machine_translated": self.machine_translated,
        }
        if self.notes:
            meta["notes"] = self.notes
        meta.update({k: v for k, v in extra.items() if v is not None})
        return meta


class Localiser:
    def __init__(self, content: Content, translator: TranslatorClient) -> None:
        self.content = content
        self.translator = translator
        self.default = content.settings.default

    def render(self, texts: Dict[str, str], lang: str) -> Reply:
        if texts.get(lang):
            return Reply(texts[lang], lang, lang)
        source = texts.get(self.default)
        if source is None:
            raise ValueError(f"no {self.default!r} text to fall back on")
        notes: List[str] = []
        if self.translator.can_translate(self.default, lang):
            try:
                translation = self.translator.translate(source, self.default, lang)
                notice = self.content.responses.get("machine_translated", {})
                marker = notice.get(lang) or notice.get(self.default, "")
                text = f"{translation.text}\n{marker}".strip()
                return Reply(text, lang, lang, machine_translated=True)
            except TranslationUnavailable as exc:
                notes.append(exc.reason)
        else:
            notes.append(f"no translation model for {self.default}->{lang}")
        apology = self.content.responses.get("no_language_support", {}).get(lang)
        text = f"{apology}\n\n{source}" if apology else source
        return Reply(text, self.default, lang, offer_human=True, notes=notes)

    def say(self, key: str, lang: str) -> Reply:
        return self.render(self.content.response(key), lang)

    def label(self, key: str, lang: str) -> str:
        """A short UI label (button title): authored text or English, never MT."""
        texts = self.content.response(key)
        return texts.get(lang) or texts[self.default]

    def buttons(self, lang: str, *keys: str) -> List[Dict[str, str]]:
        payloads = {"button_yes": "/affirm", "button_no": "/deny", "button_human": "/request_human"}
        return [{"title": self.label(key, lang), "payload": payloads[key]} for key in keys]

    def maybe_offer_human(self, reply: Reply, buttons: Optional[list] = None) -> list:
        """`buttons`, plus "talk to a person" when the reply could not be served in the visitor's language."""
        buttons = list(buttons or [])
        if reply.offer_human and not any(b["payload"] == "/request_human" for b in buttons):
            buttons += self.buttons(reply.requested_lang, "button_human")
        return buttons
