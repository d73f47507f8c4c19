"""Grounded answer generation: backends, the grounding guard and the answering pipeline."""

from kefu.generation.base import Generation, GenerationError, GenerationTimeout, Generator

__all__ = ["Generation", "GenerationError", "GenerationTimeout", "Generator"]
