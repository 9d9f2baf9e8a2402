"""The whole assistant as it runs: Rasa server with the trained model, the
action server and the translator service, as real processes over HTTP."""

import uuid

import pytest
import yaml

from bot.content import load_content
from tests.support.processes import (
    MODEL,
    REPO_ROOT,
    action_service,
    api,
    build_test_models,
    free_port,
    get_json,
    install_models,
    post_json,
    rasa_service,
    translator_service,
)


@pytest.fixture(autouse=True, scope="module")
def trained_model():
    """These tests need the trained model: a missing one is a failure, not a skip."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train`")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    logs = tmp_path_factory.mktemp("stack")
    packages = logs / "translation-models"
    ports = {name: free_port() for name in ("translator", "actions", "rasa")}
    translator_url = f"http://127.0.0.1:{ports['translator']}"
    translator = translator_service(ports["translator"], packages, logs).start()
    actions = action_service(ports["actions"], translator_url, logs).start()
    rasa = rasa_service(ports["rasa"], ports["actions"], translator_url, logs).start()
    stack = {
        "rasa": f"http://127.0.0.1:{ports['rasa']}",
        "token": rasa.token,
        "translator": translator,
        "packages": packages,
        "logs": logs,
        "services": [rasa, actions, translator],
    }
    yield stack
    for service in stack["services"]:
        service.stop()


@pytest.fixture(scope="module")
def content():
    return load_content()


def parse(stack, text, metadata=None):
    payload = {"text": text}
    if metadata:
        payload["metadata"] = metadata
    status, body = post_json(api(f"{stack['rasa']}/model/parse", stack["token"]), payload)
    assert status == 200, body
    return body


def say(stack, sender, text, metadata=None):
    status, body = post_json(
        f"{stack['rasa']}/webhooks/handoff/webhook",
        {"sender": sender, "message": text, "metadata": metadata or {}},
    )
    assert status == 200, body
    return body


def new_sender():
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize("lang", ["en", "bn", "ml"])
def test_parse_names_topic_and_language_for_every_faq(stack, content, lang):
    """The served model: one trained phrasing per topic (generalisation is measured in `make bench`)."""
    for topic in content.faq_topics:
        text = content.intents[topic].languages[lang].examples[0]
        result = parse(stack, text)
        assert result["intent"]["name"] == topic, (text, result["intent"])
        assert result["language"] == lang
        assert 0 <= result["language_confidence"] <= 1
        if lang != "en":  # native script is always reliable; short English may default
            assert result["language_detection"]["reliable"] is True


@pytest.mark.parametrize(
    "lang, question, yes",
    [
        ("en", "where is my order NS1234567", "yes"),
        ("bn", "আমার অর্ডার কোথায়", "হ্যাঁ"),
        ("ml", "എന്റെ ഓർഡർ എവിടെ", "അതെ"),
    ],
)
def test_faq_answer_then_yes_is_resolved_by_bot(stack, content, lang, question, yes):
    sender = new_sender()
    answer, ask = say(stack, sender, question)
    assert answer["text"] == content.answer("order_status")[lang]
    assert answer["meta"]["lang"] == lang and answer["meta"]["topic"] == "order_status"
    assert answer["meta"]["machine_translated"] is False
    assert ask["text"] == content.response("ask_feedback")[lang]
    resolved = say(stack, sender, yes)
    assert resolved[0]["custom"] == {"resolution": {"by": "bot", "topic": "order_status"}}
    assert resolved[0]["text"] == content.response("resolved")[lang]
    tracker = get_json(api(f"{stack['rasa']}/conversations/{sender}/tracker", stack["token"]))
    assert tracker["slots"]["resolution"] == "resolved_by_bot"


@pytest.mark.parametrize(
    "lang, question, no",
    [
        ("en", "when will i get my refund", "no"),
        ("bn", "রিফান্ড কবে পাব", "না"),
        ("ml", "റീഫണ്ട് എപ്പോൾ കിട്ടും", "ഇല്ല"),
    ],
)
def test_no_after_answer_escalates_with_handoff_event(stack, content, lang, question, no):
    sender = new_sender()
    say(stack, sender, question)
    reply = say(stack, sender, no)
    handoff = reply[0]["custom"]["handoff"]
    assert handoff["reason"] == "answer_not_helpful"
    assert handoff["language"] == lang
    assert handoff["faq_topic"] == "refund_status"
    assert handoff["conversation_id"] == sender
    assert [t["intent"] for t in handoff["intents_tried"]] == ["refund_status", "deny"]
    assert reply[0]["text"] == content.response("handoff_answer_not_helpful")[lang]


@pytest.mark.parametrize(
    "text, lang, reason",
    [
        ("i want to talk to a human agent", "en", "requested"),
        ("একজন মানুষের সাথে কথা বলতে চাই", "bn", "requested"),
        ("എനിക്ക് ഒരു ഏജന്റിനോട് സംസാരിക്കണം", "ml", "requested"),
        ("this is the worst service ever, i want to complain", "en", "complaint"),
    ],
)
def test_request_and_complaint_escalate(stack, text, lang, reason):
    reply = say(stack, new_sender(), text)
    handoff = reply[0]["custom"]["handoff"]
    assert (handoff["reason"], handoff["language"]) == (reason, lang)


@pytest.mark.parametrize(
    "first, second",
    [
        ("ক খ গ ঘ", "ঙ চ ছ জ ঝ"),
        ("ങ ഞ ണ", "ഝ ഞ ട ഠ"),
        # keyboard mashes the classifier alone acts on (thanks 81%, goodbye 77%): bot/gibberish.py
        ("qwrtp zxcvb", "lkjhg poiuy"),
    ],
)
def test_two_low_confidence_messages_escalate(stack, first, second):
    sender = new_sender()
    first_reply = say(stack, sender, first)
    assert first_reply[0]["meta"]["reply"] == "rephrase"
    second_reply = say(stack, sender, second)
    assert second_reply[0]["custom"]["handoff"]["reason"] == "low_confidence"


def fallback_config() -> dict:
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text(encoding="utf-8"))
    return next(c for c in config["pipeline"] if c["name"].endswith("LanguageFallbackClassifier"))


@pytest.mark.parametrize(
    "text, block",
    [
        ("ক খ গ ঘ", "bn"),
        ("ങ ഞ ണ", "ml"),
        ("qwrtp zxcvb", "en"),  # a keyboard mash: confidence 0 (bot/gibberish.py)
        ("क ख ग घ", "hi"),  # no training examples: the default threshold
    ],
)
def test_a_message_falls_back_below_the_threshold_of_its_language(stack, text, block):
    # Confidence 0 falls back everywhere; the fallback's confidence says whose threshold it fell below.
    config = fallback_config()
    body = parse(stack, text)
    assert body["intent"]["name"] == "nlu_fallback"
    expected = config["thresholds"].get(block, config["threshold"])
    assert body["intent"]["confidence"] == pytest.approx(expected)


def test_out_of_scope_is_not_answered_as_faq(stack, content):
    reply = say(stack, new_sender(), "whats the weather like in kochi today")
    assert reply[0]["meta"]["reply"] == "out_of_scope"
    assert reply[0]["text"] == content.response("out_of_scope")["en"]


def test_short_message_keeps_the_conversation_language(stack, content):
    sender = new_sender()
    say(stack, sender, "ক্যাশ অন ডেলিভারি আছে?")
    reply = say(stack, sender, "ok thanks")
    assert reply[0]["meta"]["lang"] == "bn"


def test_visitor_language_choice_in_metadata_wins(stack, content):
    reply = say(stack, new_sender(), "where is my order NS1234567", metadata={"language": "ml"})
    assert reply[0]["text"] == content.answer("order_status")["ml"]


def test_unserved_language_without_model_gets_english_apology_and_human(stack, content):
    result = parse(stack, "मेरा ऑर्डर कहाँ है")
    assert result["language"] == "hi"
    assert result["translation"]["status"] == "unavailable"
    assert "no translation model installed for hi->en" in result["translation"]["reason"]
    reply = say(stack, new_sender(), "मेरा ऑर्डर कहाँ है")
    assert reply[0]["text"].startswith(content.response("no_language_support")["hi"])
    assert reply[0]["meta"]["requested_lang"] == "hi" and reply[0]["meta"]["lang"] == "en"
    assert any(b["payload"] == "/request_human" for b in reply[0]["buttons"])


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"sender": "x", "message": ""}, 400),
        ({"sender": "", "message": "hi"}, 400),
        ({"sender": "x", "message": 7}, 400),
        ({"sender": "x", "message": "hi", "metadata": "nope"}, 400),
        ({"sender": "x", "message": "a" * 4001}, 413),
    ],
)
def test_bad_webhook_input_gets_clear_error(stack, payload, status):
    code, body = post_json(f"{stack['rasa']}/webhooks/handoff/webhook", payload)
    assert code == status
    assert body["message"]


def test_translator_down_the_assistant_still_answers(stack, content):
    stack["translator"].stop()
    try:
        reply = say(stack, new_sender(), "আমার অর্ডার কোথায়")
        assert reply[0]["text"] == content.answer("order_status")["bn"]
        hindi = parse(stack, "मेरा ऑर्डर कहाँ है")
        assert hindi["translation"]["status"] == "unavailable"
    finally:
        stack["translator"].start()


@pytest.mark.parametrize(
    "text, lang, topic",
    [("amar order kothay", "bn", "order_status"), ("ente order evide", "ml", "order_status")],
)
def test_romanized_question_is_answered_in_the_native_script(stack, content, text, lang, topic):
    result = parse(stack, text)
    assert result["language"] == lang
    assert result["language_detection"]["script"] == "latin"
    assert result["intent"]["name"] == topic
    reply = say(stack, new_sender(), text)
    assert reply[0]["text"] == content.answer(topic)[lang]


def test_request_for_a_person_wins_over_the_topic_and_carries_it(stack):
    reply = say(stack, new_sender(), "I need a human to check my invoice NS9988776")
    handoff = reply[0]["custom"]["handoff"]
    assert handoff["reason"] == "requested"
    assert handoff["faq_topic"] == "invoice"


def test_untrained_language_is_understood_without_a_translation_model(stack, content):
    result = parse(stack, "मेरा ऑर्डर कहाँ है")
    assert result["translation"]["status"] == "unavailable"
    assert result["intent"]["name"] == "order_status"
    reply = say(stack, new_sender(), "मेरा ऑर्डर कहाँ है")
    assert content.answer("order_status")["en"] in reply[0]["text"]


def test_with_translation_models_untrained_language_is_translated(stack, content):
    """Tiny real argostranslate models (gibberish output): the code path, not quality."""
    models = build_test_models(stack["logs"] / "models", [("hi", "en"), ("en", "hi")])
    stack["translator"].stop()
    install_models(models, stack["packages"])
    stack["translator"].start()
    result = parse(stack, "मेरा ऑर्डर कहाँ है")
    translation = result["translation"]
    assert translation["status"] == "translated"
    assert translation["source"] == "hi" and translation["target"] == "en"
    assert translation["source_text"] == "मेरा ऑर्डर कहाँ है"
    assert translation["model"].startswith("translate-hi_en-test")
    reply = say(stack, new_sender(), "मेरा ऑर्डर कहाँ है")
    meta = reply[0]["meta"]
    assert meta["lang"] == "hi" and meta["machine_translated"] is True
    assert reply[0]["text"].endswith(content.response("machine_translated")["hi"])
