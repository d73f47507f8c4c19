"""OpenAI-compatible completion endpoint (vLLM, TGI, Ollama, llama.cpp server), with a local fallback.

Uses ``/v1/completions`` (plain completion, not chat), because Kefu's prompts are few-shot
completions that work the same on a base model served remotely. The HTTP client is the
standard library's: one blocking request in a worker thread needs nothing more, and Rasa's
aiohttp is kept for the event loop. A server that is down, slow or wrong does not leave the
customer without an answer: the fallback generator (the local model) answers instead.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Sequence

from kefu.generation.base import Generation, GenerationError, GenerationTimeout, Generator, cut_at_stop


class OpenAIGenerator(Generator):
    name = "openai"

    def __init__(self, url: str, model: str = "", api_key: str = "", fallback: Generator | None = None) -> None:
        base = url.rstrip("/")
        # Accept both http://host:8000 and http://host:8000/v1, as servers document either.
        self.endpoint = base + ("/completions" if base.endswith("/v1") else "/v1/completions")
        self.model = model
        self.api_key = api_key
        self.fallback = fallback
        self.failures = 0  # requests answered by the fallback, for monitoring

    def _request(self, prompt: str, max_tokens: int, stop: Sequence[str], timeout: float) -> Generation:
        body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stop": list(stop)}
        if self.model:
            body["model"] = self.model
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.endpoint, json.dumps(body).encode(), headers, method="POST")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                payload = json.loads(response.read().decode("utf-8"))
        except TimeoutError as error:
            raise GenerationTimeout(f"{self.endpoint} did not answer within {timeout:g} s") from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise GenerationError(f"{self.endpoint} failed: {error}") from error
        try:
            text = payload["choices"][0]["text"]
        except (KeyError, IndexError, TypeError) as error:
            raise GenerationError(f"{self.endpoint} returned no completion: {payload!r:.200}") from error
        tokens = int((payload.get("usage") or {}).get("completion_tokens") or len(text.split()))
        text = cut_at_stop(text, stop).strip()
        return Generation(text, tokens, time.monotonic() - started, self.name)

    def generate(
        self,
        prompt: str,
        max_tokens: int = 64,
        stop: Sequence[str] = ("\n",),
        timeout: float = 20.0,
    ) -> Generation:
        try:
            return self._request(prompt, max_tokens, stop, timeout)
        except GenerationError:
            if self.fallback is None:
                raise
            self.failures += 1
            return self.fallback.generate(prompt, max_tokens=max_tokens, stop=stop, timeout=timeout)
