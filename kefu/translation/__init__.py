"""Translation of dynamic text: seq2seq models, the generator with few-shot prompts, passthrough."""

from kefu.translation.base import LANGUAGES, Translation, TranslationError, Translator

__all__ = ["LANGUAGES", "Translation", "TranslationError", "Translator"]
