"""The trained recommender on disk: a versioned pickle and a JSON sidecar that says what it was trained on.

``meta.json`` holds the format version, the creation time and the fingerprint of the training
data (order count, newest order date, a hash of order ids and statuses), so staleness is decided
without unpickling. The artefact is loaded once per process, on first use.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict

from kefu.recommender.base import Recommender

FORMAT_VERSION = 1
MODEL_FILE = "model.pkl"
META_FILE = "meta.json"


@dataclass(frozen=True)
class Fingerprint:
    """What the training data was: enough to tell that the orders changed since."""

    orders: int
    newest_order_on: str | None
    digest: str


@dataclass(frozen=True)
class ArtefactMeta:
    format_version: int
    created_at: str
    fingerprint: Fingerprint
    settings: Dict[str, Any]


def save(model: Recommender, directory: Path, fingerprint: Fingerprint, settings: Dict[str, Any]) -> ArtefactMeta:
    """Write model then meta through temporary files, so a reader never sees half an artefact."""
    directory.mkdir(parents=True, exist_ok=True)
    meta = ArtefactMeta(FORMAT_VERSION, dt.datetime.now(dt.timezone.utc).isoformat(), fingerprint, settings)
    _atomic_write(directory / MODEL_FILE, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    _atomic_write(directory / META_FILE, json.dumps(asdict(meta), indent=2).encode())
    return meta


def _atomic_write(path: Path, content: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def read_meta(directory: Path) -> ArtefactMeta | None:
    """The artefact's metadata; None when missing, unreadable or of another format version."""
    try:
        raw = json.loads((directory / META_FILE).read_text())
        if raw.get("format_version") != FORMAT_VERSION or not (directory / MODEL_FILE).exists():
            return None
        return ArtefactMeta(
            raw["format_version"], raw["created_at"], Fingerprint(**raw["fingerprint"]), raw["settings"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_stale(directory: Path, current: Fingerprint, settings: Dict[str, Any] | None = None) -> bool:
    """Missing, of an old format, trained on other orders, or with other settings: retrain."""
    meta = read_meta(directory)
    if meta is None or meta.fingerprint != current:
        return True
    return settings is not None and meta.settings != settings


def load(directory: Path) -> Recommender:
    if read_meta(directory) is None:
        raise FileNotFoundError(f"no recommender artefact of format {FORMAT_VERSION} in {directory}")
    # Our own artefact, written by `python -m kefu.recommender train`: pickle is trusted here.
    return pickle.loads((directory / MODEL_FILE).read_bytes())  # noqa: S301


_lock = threading.Lock()
_loaded: Dict[Path, Recommender] = {}


def shared(directory: Path) -> Recommender:
    """The process-wide model from ``directory``, loaded on first use."""
    if directory not in _loaded:
        with _lock:
            if directory not in _loaded:
                _loaded[directory] = load(directory)
    return _loaded[directory]


def forget() -> None:
    """Drop loaded models (after retraining in the same process, and in tests)."""
    with _lock:
        _loaded.clear()
