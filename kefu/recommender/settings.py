"""The ``recommender:`` section of kefu.yml; every key is optional, defaults below.

recommender:
  artefact: models/recommender        # the trained artefact. Env: KEFU_RECOMMENDER_DIR
  exclude_bought: true                # false when customers rebuy (consumables)
  collaborative: [ease, item_knn]     # co-purchase models: ease, item_knn, als (needs `implicit`)
  content: true                       # e5 similarity of product names and options
  ease_l2: 500.0
  knn_neighbours: 100
  repeat_half_life_days: 90           # recency of the customer's own purchases; null: no decay
  co_purchase_half_life_days: 30      # recent baskets weigh more for "bought together"
  weights_with_bought: {...}          # blend weights per component (defaults: hybrid.py)
  weights_new_only: {...}
  train_statuses_excluded: [cancelled]
  returned_statuses: [return requested]
  max_suggestions: 3
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

from kefu.config import PROJECT_ROOT, ConfigError, read_settings_file, settings_version
from kefu.recommender.hybrid import DEFAULT_WEIGHTS_NEW_ONLY, DEFAULT_WEIGHTS_WITH_BOUGHT

COLLABORATIVE = ("ease", "item_knn", "als")
COMPONENTS = ("repeat", "popularity", "trending", "content") + COLLABORATIVE


@dataclass(frozen=True)
class RecommenderSettings:
    artefact_dir: Path = PROJECT_ROOT / "models" / "recommender"
    exclude_bought: bool = True
    collaborative: Tuple[str, ...] = ("ease", "item_knn")
    content: bool = True
    ease_l2: float = 500.0
    knn_neighbours: int = 100
    repeat_half_life_days: float | None = 90.0
    co_purchase_half_life_days: float | None = 30.0
    trending_half_life_days: float = 14.0
    weights_with_bought: Dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS_WITH_BOUGHT))
    weights_new_only: Dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS_NEW_ONLY))
    train_statuses_excluded: Tuple[str, ...] = ("cancelled",)
    returned_statuses: Tuple[str, ...] = ("return requested",)
    max_suggestions: int = 3


def _optional_days(section: Mapping[str, Any], key: str, default: float | None) -> float | None:
    value = section.get(key, default)
    return float(value) if value is not None else None


def _weights(section: Mapping[str, Any], key: str, default: Dict[str, float]) -> Dict[str, float]:
    raw = section.get(key)
    if raw is None:
        return dict(default)
    if not isinstance(raw, dict) or set(raw) - set(COMPONENTS):
        raise ConfigError(f"'recommender.{key}' maps components {COMPONENTS} to weights")
    return {str(name): float(weight) for name, weight in raw.items()}


def parse_recommender_settings(raw: Mapping[str, Any], env: Mapping[str, str] | None = None) -> RecommenderSettings:
    """Read ``raw['recommender']`` (``raw`` is the whole kefu.yml mapping)."""
    env = dict(os.environ) if env is None else env
    section: Dict[str, Any] = dict(raw.get("recommender") or {})
    d = RecommenderSettings()
    known = {"artefact"} | {f for f in d.__dataclass_fields__ if f != "artefact_dir"}
    unknown = set(section) - known
    if unknown:
        raise ConfigError(f"unknown 'recommender' settings: {sorted(unknown)}")
    collaborative = section.get("collaborative", d.collaborative)
    collaborative = (collaborative,) if isinstance(collaborative, str) else tuple(collaborative)
    if not collaborative or set(collaborative) - set(COLLABORATIVE):
        raise ConfigError(f"'recommender.collaborative' lists some of {COLLABORATIVE}, not {list(collaborative)}")
    max_suggestions = int(section.get("max_suggestions", d.max_suggestions))
    if max_suggestions < 1:
        raise ConfigError("'recommender.max_suggestions' must be at least 1")
    directory = Path(env.get("KEFU_RECOMMENDER_DIR") or section.get("artefact") or d.artefact_dir)
    return RecommenderSettings(
        artefact_dir=directory if directory.is_absolute() else PROJECT_ROOT / directory,
        exclude_bought=bool(section.get("exclude_bought", d.exclude_bought)),
        collaborative=collaborative,
        content=bool(section.get("content", d.content)),
        ease_l2=float(section.get("ease_l2", d.ease_l2)),
        knn_neighbours=int(section.get("knn_neighbours", d.knn_neighbours)),
        repeat_half_life_days=_optional_days(section, "repeat_half_life_days", d.repeat_half_life_days),
        co_purchase_half_life_days=_optional_days(section, "co_purchase_half_life_days", d.co_purchase_half_life_days),
        trending_half_life_days=float(section.get("trending_half_life_days", d.trending_half_life_days)),
        weights_with_bought=_weights(section, "weights_with_bought", d.weights_with_bought),
        weights_new_only=_weights(section, "weights_new_only", d.weights_new_only),
        train_statuses_excluded=tuple(section.get("train_statuses_excluded", d.train_statuses_excluded)),
        returned_statuses=tuple(section.get("returned_statuses", d.returned_statuses)),
        max_suggestions=max_suggestions,
    )


def load_recommender_settings(path: Path | None = None) -> RecommenderSettings:
    return parse_recommender_settings(read_settings_file(path))


def recommender_settings() -> RecommenderSettings:
    """kefu.yml's ``recommender:`` section, read again only when the file or the environment changes."""
    return _recommender_settings(settings_version())


@lru_cache(maxsize=4)
def _recommender_settings(version: Tuple[Any, ...]) -> RecommenderSettings:
    return load_recommender_settings()
