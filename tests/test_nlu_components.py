"""Kefu's NLU components, each on its own, with the real models they run on in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.config import PROJECT_ROOT
from kefu.nlu.e5_featurizer import E5Featurizer, e5_vector
from kefu.nlu.labelled_data import LabelledDataError, file_fingerprint, load_labelled
from kefu.nlu.language import LanguageDetector
from kefu.nlu.request_type import RequestTypeClassifier
from kefu.nlu.sentiment import SentimentAnalyzer
from kefu.nlu.tokenizer import MultilingualTokenizer

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


def tokens(text: str) -> List[str]:
    tokenizer = MultilingualTokenizer(MultilingualTokenizer.get_default_config())
    return [t.text for t in tokenizer.tokenize(Message(data={"text": text}), "text")]


# -- tokenizer -------------------------------------------------------------------------------


def test_chinese_is_split_into_words_and_ids_stay_whole() -> None:
    assert tokens("我想退货，订单号是#W1234567。谢谢！") == ["我", "想", "退货", "订单号", "是", "#W1234567", "谢谢"]


def test_token_offsets_point_into_the_original_text() -> None:
    tokenizer = MultilingualTokenizer(MultilingualTokenizer.get_default_config())
    text = "请问 order #W7654321 的物流到哪了？"
    for token in tokenizer.tokenize(Message(data={"text": text}), "text"):
        assert text[token.start : token.end] == token.text


def test_european_languages_keep_whitespace_words() -> None:
    assert tokens("Où est ma commande ?") == ["Où", "est", "ma", "commande"]
    assert tokens("ich möchte die Schuhe zurückgeben") == ["ich", "möchte", "die", "Schuhe", "zurückgeben"]


# -- language --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector({})


@pytest.mark.parametrize(
    "text, code",
    [
        ("where is my order, it should have arrived by now", "en"),
        ("我的订单到哪里了", "zh"),
        ("je voudrais retourner mes chaussures", "fr"),
        ("quiero devolver los zapatos que compré", "es"),
        ("ich möchte meine Bestellung stornieren", "de"),
    ],
)
def test_language_of_clear_sentences(detector: LanguageDetector, text: str, code: str) -> None:
    result = detector.detect(text)
    assert result["code"] == code
    assert result["reliable"]


@pytest.mark.parametrize(
    "text", ["ok", "Merci", "refund pls", "#W1234567", "noor.haddad@example.net", "li.na@example.com #W2378156"]
)
def test_short_messages_are_not_reliable(detector: LanguageDetector, text: str) -> None:
    assert not detector.detect(text)["reliable"]


def test_an_email_or_order_id_does_not_decide_the_language(detector: LanguageDetector) -> None:
    result = detector.detect("c'est sous noor.haddad@example.net, commande #W2378156")
    assert result["code"] == "fr"


def test_language_is_added_to_the_parse_output(detector: LanguageDetector) -> None:
    message = Message(data={"text": "bonjour, où est mon colis ?"})
    detector.process([message])
    assert message.as_dict(only_output_properties=True)["language"]["code"] == "fr"


# -- e5 features -----------------------------------------------------------------------------


def test_e5_sentence_features_bring_translations_together() -> None:
    featurizer = E5Featurizer({}, "e5")
    texts = ["I want to cancel my order", "我想取消我的订单", "what's the weather like in Paris"]
    messages = [Message(data={"text": t}) for t in texts]
    featurizer.process(messages)
    vectors = [e5_vector(m) for m in messages]
    assert all(v is not None and v.shape == (384,) for v in vectors)
    english, chinese, weather = vectors
    assert float(english @ chinese) > float(english @ weather)
    _, sentence = messages[0].get_dense_features("text", ["e5"])
    assert sentence is not None and sentence.features.shape == (1, 384)


# -- labelled examples -----------------------------------------------------------------------


def test_labelled_examples_file_errors_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("sentiment:\n- label: angry\n  language: en\n  examples: |\n    - grr\n")
    with pytest.raises(LabelledDataError, match="label 'angry' is not one of"):
        load_labelled(str(bad), "sentiment", ["negative", "neutral", "positive"])
    with pytest.raises(LabelledDataError, match="not found"):
        load_labelled(str(tmp_path / "missing.yml"), "sentiment", ["negative"])
    before = file_fingerprint(str(bad))
    bad.write_text(bad.read_text() + "    - grrr\n")
    assert file_fingerprint(str(bad)) != before


def test_the_teams_signal_files_cover_every_language() -> None:
    for path, key, labels in [
        ("data/signals/sentiment.yml", "sentiment", ["negative", "neutral", "positive"]),
        ("data/signals/request_type.yml", "request_type", ["question", "request", "complaint", "feedback"]),
    ]:
        examples = load_labelled(path, key, labels)
        assert {(e.language, e.label) for e in examples} == {
            (lang, label) for lang in "en zh fr es de".split() for label in labels
        }


# -- trained classifiers (trained here from the team's files, stored and loaded as Rasa does) -


def train_and_load(component: type, tmp_path: Path, config: Dict[str, Any], data: TrainingData | None = None) -> Any:
    storage = LocalModelStorage(tmp_path)
    resource = Resource(component.__name__)
    context = ExecutionContext(GraphSchema({}), "test")
    full = {**component.get_default_config(), **config}
    component.create(full, storage, resource, context).train(data or TrainingData())
    return component.load(full, storage, resource, context)


@pytest.fixture(scope="module")
def sentiment(tmp_path_factory: pytest.TempPathFactory) -> SentimentAnalyzer:
    return train_and_load(SentimentAnalyzer, tmp_path_factory.mktemp("sentiment"), {})


def parse_with(component: Any, text: str, language: str) -> Dict[str, Any]:
    message = Message(data={"text": text})
    message.set("language", {"code": language, "confidence": 1.0, "reliable": True}, add_to_output=True)
    component.process([message])
    return message.as_dict(only_output_properties=True)


@pytest.mark.parametrize(
    "text, language, label",
    [
        ("the parcel arrived smashed and support never answered, worst shop ever", "en", "negative"),
        ("fast delivery and the headphones sound amazing, thank you!", "en", "positive"),
        ("快递太慢了，东西还是坏的，非常失望", "zh", "negative"),
        ("质量很好，物流也快，非常满意", "zh", "positive"),
        ("livraison en retard et produit cassé, je suis très déçu", "fr", "negative"),
        ("el producto es excelente y llegó muy rápido", "es", "positive"),
        ("die Lieferung kam beschädigt an, absolut enttäuschend", "de", "negative"),
    ],
)
def test_sentiment_of_clear_messages(sentiment: SentimentAnalyzer, text: str, language: str, label: str) -> None:
    result = parse_with(sentiment, text, language)["sentiment"]
    assert result["label"] == label
    assert -1.0 <= result["score"] <= 1.0
    assert (result["score"] > 0) == (label == "positive")


def test_plain_requests_are_neutral(sentiment: SentimentAnalyzer) -> None:
    assert parse_with(sentiment, "what is the status of order #W2378156?", "en")["sentiment"]["label"] == "neutral"


def test_sentiment_file_change_changes_the_fingerprint(tmp_path: Path) -> None:
    copy = tmp_path / "sentiment.yml"
    copy.write_text((PROJECT_ROOT / "data/signals/sentiment.yml").read_text())
    before = SentimentAnalyzer.fingerprint_addon({"examples_path": str(copy)})
    copy.write_text(copy.read_text().replace("label: positive", "label: negative", 1))
    assert SentimentAnalyzer.fingerprint_addon({"examples_path": str(copy)}) != before


@pytest.fixture(scope="module")
def request_type(tmp_path_factory: pytest.TempPathFactory) -> RequestTypeClassifier:
    return train_and_load(RequestTypeClassifier, tmp_path_factory.mktemp("request_type"), {})


@pytest.mark.parametrize(
    "text, language, label",
    [
        ("how long does shipping to Texas take?", "en", "question"),
        ("please cancel order #W5282037", "en", "request"),
        ("this is the third time my parcel is late, unacceptable!", "en", "complaint"),
        ("请问这款背包有蓝色的吗？", "zh", "question"),
        ("帮我取消订单", "zh", "request"),
    ],
)
def test_request_type_of_clear_messages(
    request_type: RequestTypeClassifier, text: str, language: str, label: str
) -> None:
    assert parse_with(request_type, text, language)["request_type"]["label"] == label


# -- out-of-scope guard ----------------------------------------------------------------------


def test_out_of_scope_guard_rejects_what_resembles_no_example(tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    from kefu.nlu.out_of_scope import OutOfScopeDetector

    data = load_data(str(PROJECT_ROOT / "data" / "nlu" / "core.yml"))
    E5Featurizer({}, "e5").process_training_data(data)
    guard = train_and_load(OutOfScopeDetector, tmp_path, {}, data)
    messages = [
        Message(data={"text": text, "intent": {"name": "track_order", "confidence": 0.9}})
        for text in ("where is my order #W2378156?", "what's the capital of Australia and its population?")
    ]
    E5Featurizer({}, "e5").process(messages)
    guard.process(messages)
    in_scope, unrelated = (m.as_dict() for m in messages)
    assert not in_scope["out_of_scope"]["rejected"]
    assert in_scope["intent"]["name"] == "track_order"
    assert unrelated["out_of_scope"]["rejected"]
    assert unrelated["intent"]["name"] == "out_of_scope"
    assert unrelated["out_of_scope"]["similarity"] < in_scope["out_of_scope"]["similarity"]


def test_a_blank_message_gets_a_zero_vector_so_classifiers_still_work() -> None:
    messages = [Message(data={"text": ""}), Message(data={"text": "   "})]
    E5Featurizer({}, "e5").process(messages)
    for message in messages:
        vector = e5_vector(message)
        assert vector is not None and vector.shape == (384,) and not vector.any()


# -- linear intent classifier ----------------------------------------------------------------


@pytest.fixture(scope="module")
def linear_intents(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Trained on the English core file and the Chinese file."""
    from rasa.shared.nlu.training_data.loading import load_data

    from kefu.nlu.linear_intent import LinearIntentClassifier

    data = load_data(str(PROJECT_ROOT / "data" / "nlu" / "core.yml")).merge(
        load_data(str(PROJECT_ROOT / "data" / "nlu" / "zh.yml"))
    )
    tokenizer = MultilingualTokenizer(MultilingualTokenizer.get_default_config())
    tokenizer.process_training_data(data)
    E5Featurizer({}, "e5").process_training_data(data)
    return train_and_load(LinearIntentClassifier, tmp_path_factory.mktemp("linear"), {}, data)


def classify(component: Any, text: str, earlier: List[Dict[str, Any]] | None = None) -> Dict[str, Any]:
    message = Message(data={"text": text})
    if earlier:
        message.set("intent", earlier[0], add_to_output=True)
        message.set("intent_ranking", earlier, add_to_output=True)
    MultilingualTokenizer(MultilingualTokenizer.get_default_config()).process([message])
    E5Featurizer({}, "e5").process([message])
    component.process([message])
    return message.as_dict(only_output_properties=True)


@pytest.mark.parametrize(
    "text, intent",
    [
        ("I'd like to cancel order #W2378156, I bought it by mistake", "cancel_order"),
        ("can you tell me where my parcel is", "track_order"),
        ("我想取消我的订单，买错了", "cancel_order"),
        ("麻烦查一下我的包裹现在到哪了", "track_order"),
    ],
)
def test_linear_classifier_reads_intents_in_english_and_chinese(linear_intents: Any, text: str, intent: str) -> None:
    parsed = classify(linear_intents, text)
    assert parsed["intent"]["name"] == intent
    confidences = [r["confidence"] for r in parsed["intent_ranking"]]
    assert confidences == sorted(confidences, reverse=True)
    assert 0.0 < parsed["intent"]["confidence"] <= 1.0


def test_linear_classifier_blends_the_earlier_ranking(linear_intents: Any) -> None:
    text = "can you tell me where my parcel is"
    alone = classify(linear_intents, text)
    # An earlier classifier certain of another intent pulls the blend half-way towards it.
    earlier = [{"name": "greet", "confidence": 1.0}]
    blended = classify(linear_intents, text, earlier)
    own = {r["name"]: r["confidence"] for r in blended["intent_votes"]["linear"]}
    scores = {r["name"]: r["confidence"] for r in blended["intent_ranking"]}
    assert blended["intent_votes"]["earlier_weight"] == 0.5
    assert scores["greet"] == pytest.approx(0.5 + 0.5 * own.get("greet", 0.0), abs=1e-3)
    assert scores["track_order"] == pytest.approx(0.5 * own["track_order"], abs=1e-3)
    assert alone["intent_votes"]["earlier_weight"] == 0.0


def test_a_blank_message_still_gets_an_intent_for_the_fallback_to_judge(linear_intents: Any) -> None:
    for text in ("", "   "):
        parsed = classify(linear_intents, text)
        assert parsed["intent"]["name"] and 0.0 <= parsed["intent"]["confidence"] <= 1.0
