"""transformers backend: any causal LM by hub id or local folder (GPT-2, Llama, Gemma 1/2, ...).

For shops with a GPU or with weights on disk. Nothing here downloads when given a folder;
with a hub id, transformers downloads on first use (impossible on the offline machines, where
only a folder works). Greedy decoding; ``max_time`` and a stop-sequence criterion bound it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Sequence

from kefu.generation.base import Generation, GenerationError, Generator, cut_at_stop


def _stop_criterion(tokenizer: Any, prompt_length: int, stop: Sequence[str]):
    from transformers import StoppingCriteria

    class StopOnText(StoppingCriteria):
        # transformers 4.36 has no stop strings: decode the new tokens and look for them.
        def __call__(self, input_ids, scores, **kwargs) -> bool:
            text = tokenizer.decode(input_ids[0, prompt_length:], skip_special_tokens=True)
            return any(marker and marker in text for marker in stop)

    return StopOnText()


class TransformersGenerator(Generator):
    name = "transformers"

    def __init__(self, model: str | Path, device: str | None = None) -> None:
        if not str(model):
            raise GenerationError("the transformers backend needs a model id or folder (generation.model)")
        self.model_id = str(model)
        self.device = device
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as error:
            raise GenerationError("the transformers backend needs torch and transformers installed") from error
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.model_id)
            self._model = AutoModelForCausalLM.from_pretrained(self.model_id).to(device).eval()
        except OSError as error:
            raise GenerationError(f"cannot load causal LM {self.model_id!r}: {error}") from error
        self.device = device

    def generate(
        self,
        prompt: str,
        max_tokens: int = 64,
        stop: Sequence[str] = ("\n",),
        timeout: float = 20.0,
    ) -> Generation:
        import torch

        with self._lock:
            self._load()
            started = time.monotonic()
            inputs = self._tokenizer(prompt, return_tensors="pt").to(self.device)
            length = inputs["input_ids"].shape[1]
            pad = self._tokenizer.pad_token_id
            if pad is None:
                pad = self._tokenizer.eos_token_id
            with torch.no_grad():
                output = self._model.generate(
                    **inputs,
                    max_new_tokens=max_tokens,
                    do_sample=False,
                    max_time=timeout,
                    pad_token_id=pad,
                    stopping_criteria=[_stop_criterion(self._tokenizer, length, stop)],
                )
            new_tokens = output[0, length:]
            text = cut_at_stop(self._tokenizer.decode(new_tokens, skip_special_tokens=True), stop)
            return Generation(text.strip(), int(new_tokens.shape[0]), time.monotonic() - started, self.name)
