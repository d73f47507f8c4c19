"""transformers seq2seq translation: Marian (one model per pair), NLLB and M2M100 (many-to-many).

Loaded by hub id or local folder, lazily, once per model and process. No package carries
translation weights, so on the offline machines only a folder works (the tests build a tiny
random Marian model with a sentencepiece vocabulary); with network or weights on disk, e.g.
Helsinki-NLP/opus-mt-zh-en or facebook/nllb-200-distilled-600M.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

from kefu.translation.base import Translation, TranslationError, Translator

# Language codes of the many-to-many models for the languages Kefu speaks.
NLLB_CODES = {"en": "eng_Latn", "zh": "zho_Hans", "fr": "fra_Latn", "es": "spa_Latn", "de": "deu_Latn"}


class Seq2SeqTranslator(Translator):
    name = "seq2seq"

    def __init__(
        self,
        model: str | Path = "",
        pair_models: Mapping[str, str | Path] | None = None,
        max_tokens: int = 256,
        device: str | None = None,
    ) -> None:
        """``model`` serves every pair (NLLB, M2M100); ``pair_models`` maps "zh-en" to a Marian model."""
        self.default_model = str(model)
        self.pair_models = {k: str(v) for k, v in (pair_models or {}).items()}
        if not self.default_model and not self.pair_models:
            raise TranslationError("the seq2seq translator needs translation.model or translation.models")
        self.max_tokens = max_tokens
        self.device = device
        self._loaded: Dict[str, Tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def _model_for(self, source: str, target: str) -> str:
        model = self.pair_models.get(f"{source}-{target}") or self.default_model
        if not model:
            raise TranslationError(f"no seq2seq model configured for {source}->{target}")
        return model

    def _load(self, model_id: str) -> Tuple[Any, Any]:
        if model_id not in self._loaded:
            try:
                import torch
                from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
            except ImportError as error:
                raise TranslationError("seq2seq translation needs torch and transformers") from error
            self.device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            try:
                tokenizer = AutoTokenizer.from_pretrained(model_id)
                model = AutoModelForSeq2SeqLM.from_pretrained(model_id).to(self.device).eval()
            except OSError as error:
                raise TranslationError(f"cannot load translation model {model_id!r}: {error}") from error
            self._loaded[model_id] = (tokenizer, model)
        return self._loaded[model_id]

    @staticmethod
    def _language_settings(tokenizer: Any, source: str, target: str) -> Dict[str, Any]:
        """Source language on the tokenizer and the forced first token, for many-to-many models."""
        kind = type(tokenizer).__name__
        if kind.startswith("Nllb"):
            tokenizer.src_lang = NLLB_CODES[source]
            return {"forced_bos_token_id": tokenizer.convert_tokens_to_ids(NLLB_CODES[target])}
        if kind.startswith("M2M100"):
            tokenizer.src_lang = source
            return {"forced_bos_token_id": tokenizer.get_lang_id(target)}
        return {}  # Marian: the model is the pair

    def _translate(self, text: str, source: str, target: str) -> Translation:
        import torch

        model_id = self._model_for(source, target)
        with self._lock:
            tokenizer, model = self._load(model_id)
            extra = self._language_settings(tokenizer, source, target)
            inputs = tokenizer([text], return_tensors="pt", truncation=True).to(self.device)
            # Marian's position table has a fixed size: decoding past it fails with an index error.
            limit = min(self.max_tokens, getattr(model.config, "max_position_embeddings", self.max_tokens) - 1)
            with torch.no_grad():
                output = model.generate(**inputs, max_new_tokens=limit, num_beams=1, **extra)
            translated = tokenizer.batch_decode(output, skip_special_tokens=True)[0].strip()
        return Translation(text=translated, machine=True, backend=f"{self.name}:{Path(model_id).name}")
