"""Grounded answer generation: backends, the grounding guard and the prompts (kefu/answering.py composes them)."""

from kefu.generation.base import Generation, GenerationError, GenerationTimeout, Generator

__all__ = ["Generation", "GenerationError", "GenerationTimeout", "Generator"]
