"""Content loading, the validator and the compiler, on the real content and on broken copies."""

import dataclasses
import shutil

import pytest
import yaml

from bot.compile import compile_content
from bot.content import ContentError, load_content, romanized_copies
from bot.validate import REQUIRED_FAQ_TOPICS, check_config, check_content
from tests.support.processes import REPO_ROOT


@pytest.fixture(scope="module")
def content():
    return load_content()


@pytest.fixture
def content_copy(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data", root)
    return root


def _edit(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_real_content_passes_every_check(content):
    assert check_content(content) == []
    assert check_config(content, REPO_ROOT / "config.yml") == []


def test_every_required_topic_has_answers_in_every_authored_language(content):
    assert sorted(REQUIRED_FAQ_TOPICS) == content.faq_topics
    for topic in content.faq_topics:
        assert set(content.answer(topic)) >= {"en", "bn", "ml"}


def test_missing_answer_is_reported(content_copy):
    _edit(content_copy / "faq" / "warranty.yml", lambda d: d["languages"]["ml"].pop("answer"))
    problems = check_content(load_content(content_copy))
    assert any("warranty.yml: ml: no answer" in p for p in problems)


def test_too_few_examples_are_reported(content_copy):
    _edit(content_copy / "faq" / "invoice.yml", lambda d: d["languages"]["bn"].update(examples=["ইনভয়েস চাই"]))
    problems = check_content(load_content(content_copy))
    assert any("invoice.yml: bn: 1 examples, at least 8 needed" in p for p in problems)


def test_duplicate_example_across_files_is_reported(content_copy):
    duplicate = load_content(content_copy).intents["order_status"].languages["en"].examples[0]
    _edit(
        content_copy / "faq" / "refund_status.yml",
        lambda d: d["languages"]["en"]["examples"].append(duplicate.upper()),
    )
    problems = check_content(load_content(content_copy))
    assert any("also appears in" in p and "order_status" in p for p in problems)


def test_wrong_script_is_reported(content_copy):
    _edit(
        content_copy / "faq" / "promo_code.yml",
        lambda d: d["languages"]["ml"]["examples"].append("promo code not working"),
    )
    problems = check_content(load_content(content_copy))
    assert any("has no malayalam script" in p for p in problems)


def test_items_indented_deeper_than_their_list_are_reported(content_copy):
    # The slip of one content batch: new items indented by 6 spaces under a list indented
    # by 4 are folded by YAML into the last example, and nothing else notices.
    path = content_copy / "faq" / "warranty.yml"
    lines = path.read_text(encoding="utf-8").split("\n")
    head = lines.index("  bn:")
    at = next(i for i in range(head, len(lines)) if lines[i] == "    heldout:")
    assert lines[at - 1].startswith("    - ")
    # A plain last example (a quoted one would make the continuation a YAML error instead),
    # then the deeper-indented items that YAML folds into it.
    lines[at:at] = ["    - ওয়ারেন্টি কত দিনের"] + [
        f"      - ওয়ারেন্টি নিয়ে প্রশ্ন নম্বর {n}, কত দিনের ওয়ারেন্টি পাব জানাবেন" for n in range(8)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    problems = check_content(load_content(content_copy))
    assert any("warranty.yml: bn: an example of" in p and "indented deeper" in p for p in problems)


def test_missing_language_is_reported(content_copy):
    _edit(content_copy / "faq" / "invoice.yml", lambda d: d["languages"].pop("bn"))
    problems = check_content(load_content(content_copy))
    assert any("invoice.yml: no content in authored language 'bn'" in p for p in problems)


def test_file_name_must_match_topic(content_copy):
    _edit(content_copy / "faq" / "invoice.yml", lambda d: d.update(topic="bill"))
    with pytest.raises(ContentError, match="must equal the file name"):
        load_content(content_copy)


def test_broken_yaml_is_a_clear_error(content_copy):
    (content_copy / "faq" / "invoice.yml").write_text("topic: invoice\nlanguages: [\n", encoding="utf-8")
    with pytest.raises(ContentError, match="not valid YAML"):
        load_content(content_copy)


def test_compiled_training_data_excludes_heldout_and_is_deterministic(content, tmp_path):
    compile_content(content, tmp_path / "a", REPO_ROOT / "bot" / "domain.yml")
    compile_content(content, tmp_path / "b", REPO_ROOT / "bot" / "domain.yml")
    nlu_a = (tmp_path / "a" / "data" / "nlu.yml").read_text(encoding="utf-8")
    assert nlu_a == (tmp_path / "b" / "data" / "nlu.yml").read_text(encoding="utf-8")
    nlu = yaml.safe_load(nlu_a)["nlu"]
    trained = {line[2:] for block in nlu for line in block["examples"].splitlines()}
    heldout = {t for i in content.intents.values() for b in i.languages.values() for t in b.heldout}
    examples = {t for i in content.intents.values() for b in i.languages.values() for t in b.examples}
    copies = {c for langs in romanized_copies(content).values() for pairs in langs.values() for c, _ in pairs}
    assert trained == examples | copies
    assert not trained & heldout
    assert {block["metadata"]["language"] for block in nlu} == {"en", "bn", "ml"}


def test_compiled_rule_answers_every_faq_topic(content, tmp_path):
    compile_content(content, tmp_path, REPO_ROOT / "bot" / "domain.yml")
    rules = yaml.safe_load((tmp_path / "data" / "rules_faq.yml").read_text(encoding="utf-8"))["rules"]
    topics = {step["intent"] for step in rules[0]["steps"][0]["or"]}
    assert topics == set(content.faq_topics)
    domain = yaml.safe_load((tmp_path / "domain.yml").read_text(encoding="utf-8"))
    assert set(domain["intents"]) == set(content.intents)


def test_config_disagreeing_with_languages_is_reported(content, tmp_path):
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"][1]["trained_languages"] = ["en"]
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert any("trained_languages" in p for p in check_config(content, path))


def test_missing_romanized_block_is_reported(content_copy):
    _edit(content_copy / "faq" / "warranty.yml", lambda d: d["languages"].pop("ml-Latn"))
    problems = check_content(load_content(content_copy))
    assert any("warranty.yml: no romanized block 'ml-Latn'" in p for p in problems)


def test_native_script_in_a_romanized_block_is_reported(content_copy):
    _edit(
        content_copy / "faq" / "invoice.yml",
        lambda d: d["languages"]["bn-Latn"]["examples"].append("invoice টা দিন"),
    )
    problems = check_content(load_content(content_copy))
    assert any("bn-Latn: 'invoice টা দিন' is not in Latin letters only" in p for p in problems)


def test_romanized_examples_are_compiled_with_their_language_and_script(content, tmp_path):
    compile_content(content, tmp_path, REPO_ROOT / "bot" / "domain.yml")
    nlu = yaml.safe_load((tmp_path / "data" / "nlu.yml").read_text(encoding="utf-8"))["nlu"]
    romanized = [
        b for b in nlu if b["metadata"].get("script") == "latin" and "generated" not in b["metadata"]
    ]
    assert {b["metadata"]["language"] for b in romanized} == {"bn", "ml"}
    assert len(romanized) == 2 * len(content.intents)
    # data/languages.yml lists no language under `romanized_copies`: none are generated.
    assert not [b for b in nlu if b["metadata"].get("generated")]
    heldout = {t for i in content.intents.values() for b in i.languages.values() for t in b.heldout}
    compiled = {line[2:] for b in nlu for line in b["examples"].splitlines()}
    assert not heldout & compiled


def test_romanized_copies_are_compiled_for_the_languages_listed(content, tmp_path):
    with_copies = dataclasses.replace(
        content, settings=dataclasses.replace(content.settings, romanized_copies=["ml"])
    )
    compile_content(with_copies, tmp_path, REPO_ROOT / "bot" / "domain.yml")
    nlu = yaml.safe_load((tmp_path / "data" / "nlu.yml").read_text(encoding="utf-8"))["nlu"]
    copies = [b for b in nlu if b["metadata"].get("generated") == "bot.romanize"]
    assert copies and {b["metadata"]["language"] for b in copies} == {"ml"}
    assert all(b["metadata"]["script"] == "latin" for b in copies)
    heldout = {t for i in content.intents.values() for b in i.languages.values() for t in b.heldout}
    assert not heldout & {line[2:] for b in copies for line in b["examples"].splitlines()}


def test_other_languages_heldout_set_is_read(content):
    assert set(content.other_heldout) >= {"hi", "ta", "es", "fr", "ar"}
    for lang, intents in content.other_heldout.items():
        assert sum(len(texts) for texts in intents.values()) >= 10, lang
        assert set(intents) <= set(content.intents), lang
