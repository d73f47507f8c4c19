"""The shared tasks of tau-bench's retail world, shipped with Kefu (README.md, LICENSE here)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Tuple

TASKS_DIR = Path(__file__).resolve().parent
TASK_FILES = ("tasks_train.json", "tasks_dev.json")


@lru_cache(maxsize=1)
def _read() -> Tuple[Dict[str, Any], ...]:
    return tuple(dict(task, source=name) for name in TASK_FILES for task in json.loads((TASKS_DIR / name).read_text()))


def shared_tasks() -> List[Dict[str, Any]]:
    """Every task, train then dev, each with ``source`` (its file's name); a fresh copy each call."""
    return [json.loads(json.dumps(task)) for task in _read()]
