"""Kefu's NLU components: Rasa 3.x GraphComponents named in config.yml.

- ``tokenizer.MultilingualTokenizer``: words for English, French, Spanish, German; jieba words for Chinese.
- ``language.LanguageDetector``: the message's language (lingua), restricted to the supported ones.
- ``e5_featurizer.E5Featurizer``: multilingual-e5-small sentence embeddings as dense features.
- ``sentiment.SentimentAnalyzer``: negative / neutral / positive and a score in [-1, 1].
- ``request_type.RequestTypeClassifier``: question / request / complaint / feedback.

Each component adds its result to the parsed message (``language``, ``sentiment``,
``request_type``), so ``POST /model/parse`` returns it and the user event stores it.
"""

SUPPORTED_LANGUAGES = ("en", "zh", "fr", "es", "de")
# CJK Unified Ideographs and extension A, as a regex character range: what counts as Chinese.
HAN_RANGE = "\u3400-\u4dbf\u4e00-\u9fff"
