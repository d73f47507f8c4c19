"""Passthrough: no translation at all. The floor of the benchmark and the safe default."""

from __future__ import annotations

from kefu.translation.base import Translation, Translator


class PassthroughTranslator(Translator):
    name = "passthrough"

    def _translate(self, text: str, source: str, target: str) -> Translation:
        return Translation(text=text, machine=False, backend=self.name)
