"""Reading the team's labelled examples for the sentiment and request-type components.

The files live beside the NLU data (``data/signals/*.yml``) in the shape designers know
from Rasa's NLU files::

    sentiment:
    - label: negative
      language: en
      examples: |
        - the strap broke after two days

Rasa does not read these files, so the components add the file's hash to their
fingerprint: editing the examples retrains the component on the next ``rasa train``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import List

import yaml

from kefu.config import PROJECT_ROOT


class LabelledDataError(ValueError):
    """A labelled-examples file is missing or malformed; the message says where."""


@dataclass(frozen=True)
class LabelledExample:
    text: str
    label: str
    language: str


def resolve(path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


def _examples_block(block: object, where: str) -> List[str]:
    if not isinstance(block, str):
        raise LabelledDataError(f"{where}: 'examples' must be a '|' block of '- text' lines")
    texts = []
    for line in block.splitlines():
        line = line.strip()
        if not line:
            continue
        if not line.startswith("- "):
            raise LabelledDataError(f"{where}: every example line starts with '- ', not {line!r}")
        texts.append(line[2:].strip())
    return texts


def load_labelled(path: str, key: str, labels: List[str]) -> List[LabelledExample]:
    """All examples under ``key`` in the YAML file at ``path``, checked against ``labels``."""
    file = resolve(path)
    if not file.is_file():
        raise LabelledDataError(f"{file}: labelled examples not found")
    document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    groups = document.get(key)
    if not isinstance(groups, list) or not groups:
        raise LabelledDataError(f"{file}: expected a non-empty list under '{key}:'")
    examples: List[LabelledExample] = []
    for number, group in enumerate(groups, start=1):
        where = f"{file.name}, {key} group {number}"
        if not isinstance(group, dict):
            raise LabelledDataError(f"{where}: each group has label, language and examples")
        label, language = group.get("label"), group.get("language")
        if label not in labels:
            raise LabelledDataError(f"{where}: label {label!r} is not one of {labels}")
        if not isinstance(language, str) or not language:
            raise LabelledDataError(f"{where}: 'language' must be a language code such as en or zh")
        examples.extend(LabelledExample(t, label, language) for t in _examples_block(group.get("examples"), where))
    return examples


def file_fingerprint(path: str) -> str:
    """A hash of the file's bytes (or of its absence), for the components' fingerprints."""
    file = resolve(path)
    content = file.read_bytes() if file.is_file() else b"<missing>"
    return hashlib.sha256(content).hexdigest()
