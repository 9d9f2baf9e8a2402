"""The project's own content checks (run by `make validate` after `rasa data validate`).

    python -m bot.validate

Checks, for every intent file under data/faq/ and data/intents/ (see
docs/content-guide.md): every authored language is present; FAQ topics have an
answer in every authored language; at least `min_examples` training and
`min_heldout` held-out examples per language; no example appears twice
anywhere (case/space-insensitive); Bengali and Malayalam examples are written in
their script; romanized blocks (`bn-Latn`, `ml-Latn`) exist for the languages
listed under `romanized`, with enough examples, in Latin letters only; no Rasa entity markup in examples; every FAQ topic of the issue
list exists; data/responses.yml has every key the actions use, in every
authored language; config.yml's language settings agree with data/languages.yml.
Exit status 1 and one line per problem if anything is wrong.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import List, Optional

import yaml

from bot.content import REPO_ROOT, ROMAN, Content, ContentError, load_content
from bot.langid import LANGUAGE_SCRIPT, script_counts

REQUIRED_FAQ_TOPICS = (
    "order_status delivery_time shipping_cost international_shipping return_policy "
    "refund_status cancel_order change_address payment_methods payment_failed "
    "password_reset create_account damaged_item warranty support_hours promo_code "
    "invoice size_exchange delete_account_data cash_on_delivery"
).split()
REQUIRED_INTENTS = "greet goodbye thanks affirm deny request_human complaint out_of_scope".split()
REQUIRED_RESPONSES = (
    "greet goodbye thanks ask_feedback button_yes button_no button_human resolved "
    "anything_else rephrase out_of_scope handoff_requested handoff_complaint "
    "handoff_answer_not_helpful handoff_low_confidence machine_translated no_language_support"
).split()
# The longest real example is 174 characters; a longer one is usually several items that a
# wrong indentation merged into one (YAML folds the deeper lines into the item above).
MAX_EXAMPLE_CHARS = 300
ENTITY_MARKUP = re.compile(r"\[[^\]]*\]\s*[({]")


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def check_content(content: Content) -> List[str]:
    problems: List[str] = []
    settings = content.settings
    seen: dict = {}
    for name in REQUIRED_FAQ_TOPICS:
        if name not in content.intents or not content.intents[name].is_faq:
            problems.append(f"data/faq/{name}.yml: required FAQ topic is missing")
    for name in REQUIRED_INTENTS:
        if name not in content.intents:
            problems.append(f"data/intents/{name}.yml: required intent is missing")
    for intent in content.intents.values():
        where = (
            intent.path.relative_to(content.root.parent)
            if content.root.parent in intent.path.parents
            else intent.path
        )
        for lang in settings.authored:
            block = intent.languages.get(lang)
            if block is None:
                problems.append(f"{where}: no content in authored language {lang!r}")
                continue
            if intent.is_faq and not (block.answer or "").strip():
                problems.append(f"{where}: {lang}: no answer")
            if len(block.examples) < settings.min_examples:
                problems.append(
                    f"{where}: {lang}: {len(block.examples)} examples, at least {settings.min_examples} needed"
                )
            if len(block.heldout) < settings.min_heldout:
                problems.append(
                    f"{where}: {lang}: {len(block.heldout)} held-out examples, at least {settings.min_heldout} needed"
                )
        for lang in settings.romanized:
            key = f"{lang}-{ROMAN}"
            block = intent.languages.get(key)
            if block is None:
                problems.append(f"{where}: no romanized block {key!r}")
                continue
            if block.answer:
                problems.append(
                    f"{where}: {key}: romanized blocks have no answer (the {lang} answer is used)"
                )
            for kind, examples, least in (
                ("examples", block.examples, settings.min_romanized_examples),
                ("held-out examples", block.heldout, settings.min_romanized_heldout),
            ):
                if len(examples) < least:
                    problems.append(f"{where}: {key}: {len(examples)} {kind}, at least {least} needed")
        for lang, block in intent.languages.items():
            if lang.endswith(f"-{ROMAN}"):
                for example in block.examples + block.heldout:
                    if set(script_counts(example)) - {"latin"}:
                        problems.append(f"{where}: {lang}: {example!r} is not in Latin letters only")
            script = LANGUAGE_SCRIPT.get(lang, "latin")
            for kind, examples in (("examples", block.examples), ("heldout", block.heldout)):
                for example in examples:
                    if ENTITY_MARKUP.search(example):
                        problems.append(f"{where}: {lang}: {example!r} looks like entity markup")
                    if len(example) > MAX_EXAMPLE_CHARS:
                        problems.append(
                            f"{where}: {lang}: an example of {len(example)} characters (at most "
                            f"{MAX_EXAMPLE_CHARS}): items indented deeper than their list are read "
                            f"as part of the example above them: {example[:60]!r}..."
                        )
                    if script != "latin" and script not in script_counts(example):
                        problems.append(f"{where}: {lang}: {example!r} has no {script} script")
                    key = _normal(example)
                    if key in seen:
                        problems.append(f"{where}: {lang}: {example!r} also appears in {seen[key]}")
                    else:
                        seen[key] = f"{where} ({lang} {kind})"
    for key in REQUIRED_RESPONSES:
        texts = content.responses.get(key)
        if texts is None:
            problems.append(f"data/responses.yml: response {key!r} is missing")
            continue
        for lang in settings.authored:
            if not texts.get(lang):
                problems.append(f"data/responses.yml: {key}: no {lang!r} text")
    return problems


def check_config(content: Content, config_path: Path) -> List[str]:
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    problems = []
    components = {c.get("name", "").rsplit(".", 1)[-1]: c for c in config.get("pipeline", [])}
    detector = components.get("LanguageDetector")
    translator = components.get("InboundTranslator")
    authored = set(content.settings.authored)
    if detector is None:
        problems.append(f"{config_path.name}: the pipeline has no LanguageDetector")
    else:
        missing = authored - set(detector.get("languages", []))
        if missing:
            problems.append(f"{config_path.name}: LanguageDetector.languages lacks {sorted(missing)}")
        if detector.get("default", "en") != content.settings.default:
            problems.append(f"{config_path.name}: LanguageDetector.default differs from data/languages.yml")
    if translator is not None and set(translator.get("trained_languages", [])) != authored:
        problems.append(
            f"{config_path.name}: InboundTranslator.trained_languages must equal "
            f"data/languages.yml authored {sorted(authored)}"
        )
    return problems


def main(argv: Optional[list] = None) -> int:
    try:
        content = load_content()
    except ContentError as exc:
        print(f"content error: {exc}")
        return 1
    problems = check_content(content) + check_config(content, REPO_ROOT / "config.yml")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found")
        return 1
    examples = sum(len(b.examples) for i in content.intents.values() for b in i.languages.values())
    heldout = sum(len(b.heldout) for i in content.intents.values() for b in i.languages.values())
    print(
        f"content OK: {len(content.faq_topics)} FAQ topics, {len(content.conversation_intents)} "
        f"conversational intents, {examples} training and {heldout} held-out examples in "
        f"{', '.join(content.settings.authored)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
