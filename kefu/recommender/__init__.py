"""Product recommendations: a hybrid of repeat purchases, co-purchase, content similarity and popularity.

``shop_recommender()`` is the trained model of this shop, loaded once per process from
``models/recommender/`` (train it with ``python -m kefu.recommender train``).
"""

from __future__ import annotations

from kefu.recommender.base import Exclusions, Recommendation, Recommender
from kefu.recommender.settings import RecommenderSettings, recommender_settings

__all__ = ["Exclusions", "Recommendation", "Recommender", "RecommenderSettings", "shop_recommender"]


def shop_recommender(settings: RecommenderSettings | None = None) -> Recommender:
    """The shop's trained recommender (raises FileNotFoundError when it was never trained)."""
    from kefu.recommender import artefact

    settings = settings or recommender_settings()
    return artefact.shared(settings.artefact_dir)
