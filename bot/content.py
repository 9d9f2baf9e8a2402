"""The assistant's content: one YAML file per intent, plus shared responses.

Content editors write `data/faq/<topic>.yml` (FAQ topics with answers),
`data/intents/<intent>.yml` (conversational intents) and `data/responses.yml`
(everything else the assistant says). This module reads them into plain
objects; it is used by the action server, the training-data compiler, the
validator and the benchmarks. It imports nothing from Rasa.

Nothing is read at import time: call `load_content()`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT_DIR = REPO_ROOT / "data"
ROMAN = "Latn"  # the suffix of a romanized block: "bn-Latn" is Bengali typed in Latin letters


class ContentError(ValueError):
    """A content file is missing or does not follow docs/content-guide.md."""


@dataclass(frozen=True)
class LanguageBlock:
    """One language of one intent: its training and held-out examples."""

    examples: List[str]
    heldout: List[str]
    answer: Optional[str] = None


@dataclass(frozen=True)
class Intent:
    """An intent and its per-language content, as authored in one file."""

    name: str
    kind: str  # "faq" or "conversation"
    description: str
    languages: Dict[str, LanguageBlock]
    path: Path

    @property
    def is_faq(self) -> bool:
        return self.kind == "faq"

    def answers(self) -> Dict[str, str]:
        """The authored answer of an FAQ topic, by language."""
        return {
            lang: block.answer.strip()
            for lang, block in self.languages.items()
            if block.answer and block.answer.strip()
        }


@dataclass(frozen=True)
class LanguageSettings:
    authored: List[str]
    default: str
    min_examples: int
    min_heldout: int
    romanized: List[str] = field(default_factory=list)  # languages also authored in Latin letters
    romanized_copies: List[str] = field(default_factory=list)  # languages whose native examples are copied
    min_romanized_examples: int = 8
    min_romanized_heldout: int = 4


@dataclass
class Content:
    """Everything the content editors wrote."""

    settings: LanguageSettings
    intents: Dict[str, Intent]
    responses: Dict[str, Dict[str, str]]
    root: Path = field(default=DEFAULT_CONTENT_DIR)
    other_heldout: Dict[str, Dict[str, List[str]]] = field(default_factory=dict)

    @property
    def faq_topics(self) -> List[str]:
        return sorted(name for name, intent in self.intents.items() if intent.is_faq)

    @property
    def conversation_intents(self) -> List[str]:
        return sorted(name for name, i in self.intents.items() if not i.is_faq)

    def answer(self, topic: str) -> Dict[str, str]:
        try:
            intent = self.intents[topic]
        except KeyError:
            raise ContentError(f"unknown FAQ topic {topic!r}") from None
        if not intent.is_faq:
            raise ContentError(f"{topic!r} is not an FAQ topic")
        return intent.answers()

    def response(self, key: str) -> Dict[str, str]:
        try:
            return self.responses[key]
        except KeyError:
            raise ContentError(f"no response {key!r} in data/responses.yml") from None


def romanized_copies(
    content: Content, languages: Optional[List[str]] = None
) -> Dict[str, Dict[str, List[tuple]]]:
    """Latin-letter copies of the native training examples: {intent: {lang: [(copy, source)]}}.

    For each of `languages` (default: `settings.romanized_copies`, the ones
    training adds; the benchmarks compare with all); copies that equal an authored
    example or any held-out example (case- and space-insensitively) are left
    out, so nothing held out is ever trained on.
    """
    from bot.romanize import romanize

    def key(text: str) -> str:
        return " ".join(text.casefold().split())

    taken = {
        key(t) for i in content.intents.values() for b in i.languages.values() for t in b.examples + b.heldout
    }
    copies: Dict[str, Dict[str, List[tuple]]] = {}
    for name, intent in sorted(content.intents.items()):
        for lang in content.settings.romanized_copies if languages is None else languages:
            block = intent.languages.get(lang)
            for source in block.examples if block else []:
                copy = romanize(source)
                if key(copy) in taken or copy == source:
                    continue
                taken.add(key(copy))
                copies.setdefault(name, {}).setdefault(lang, []).append((copy, source))
    return copies


def content_dir() -> Path:
    """The content folder: $CONTENT_DIR, or the repository's data/."""
    return Path(os.environ.get("CONTENT_DIR", DEFAULT_CONTENT_DIR))


def _read_yaml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping at the top level")
    return data


def _as_str_list(value: object, where: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ContentError(f"{where}: expected a list of strings")
    return [str(v).strip() for v in value if str(v).strip()]


def _read_intent(path: Path, kind: str) -> Intent:
    data = _read_yaml(path)
    key = "topic" if kind == "faq" else "intent"
    name = data.get(key)
    if name != path.stem:
        raise ContentError(f"{path}: `{key}: {name}` must equal the file name {path.stem!r}")
    languages = data.get("languages")
    if not isinstance(languages, dict) or not languages:
        raise ContentError(f"{path}: `languages` must map language codes to content")
    blocks: Dict[str, LanguageBlock] = {}
    for lang, block in languages.items():
        where = f"{path}: languages.{lang}"
        if not isinstance(block, dict):
            raise ContentError(f"{where}: expected a mapping")
        answer = block.get("answer")
        if answer is not None and not isinstance(answer, str):
            raise ContentError(f"{where}.answer: expected text")
        if kind != "faq" and answer is not None:
            raise ContentError(f"{where}: conversational intents have no `answer`")
        blocks[str(lang)] = LanguageBlock(
            examples=_as_str_list(block.get("examples"), f"{where}.examples"),
            heldout=_as_str_list(block.get("heldout"), f"{where}.heldout"),
            answer=answer,
        )
    return Intent(
        name=name,
        kind=kind,
        description=str(data.get("description", "")).strip(),
        languages=blocks,
        path=path,
    )


def load_content(root: Optional[Path] = None) -> Content:
    """Read every content file under `root` (default: `content_dir()`)."""
    root = Path(root) if root is not None else content_dir()
    settings_data = _read_yaml(root / "languages.yml")
    settings = LanguageSettings(
        authored=[str(x) for x in settings_data.get("authored", [])],
        default=str(settings_data.get("default", "en")),
        min_examples=int(settings_data.get("min_examples", 8)),
        min_heldout=int(settings_data.get("min_heldout", 3)),
        romanized=[str(x) for x in settings_data.get("romanized", [])],
        romanized_copies=[str(x) for x in settings_data.get("romanized_copies", [])],
        min_romanized_examples=int(settings_data.get("min_romanized_examples", 8)),
        min_romanized_heldout=int(settings_data.get("min_romanized_heldout", 4)),
    )
    intents: Dict[str, Intent] = {}
    for kind, folder in (("faq", "faq"), ("conversation", "intents")):
        for path in sorted((root / folder).glob("*.yml")):
            intent = _read_intent(path, kind)
            if intent.name in intents:
                raise ContentError(f"{path}: intent {intent.name!r} is defined twice")
            intents[intent.name] = intent
    responses_data = _read_yaml(root / "responses.yml").get("responses") or {}
    responses: Dict[str, Dict[str, str]] = {}
    for key, texts in responses_data.items():
        if not isinstance(texts, dict):
            raise ContentError(f"{root / 'responses.yml'}: {key}: expected language: text")
        responses[str(key)] = {str(k): str(v).strip() for k, v in texts.items()}
    return Content(
        settings=settings,
        intents=intents,
        responses=responses,
        root=root,
        other_heldout=_read_other_heldout(root / "heldout" / "other_languages.yml"),
    )


def _read_other_heldout(path: Path) -> Dict[str, Dict[str, List[str]]]:
    """Held-out messages in languages with no authored content: {lang: {intent: [text]}}."""
    if not path.exists():
        return {}
    languages = _read_yaml(path).get("languages") or {}
    if not isinstance(languages, dict):
        raise ContentError(f"{path}: `languages` must map language codes to intents")
    return {
        str(lang): {
            str(intent): _as_str_list(texts, f"{path}: {lang}.{intent}") for intent, texts in intents.items()
        }
        for lang, intents in languages.items()
    }
