"""Content similarity: multilingual-e5-small embeddings of product names and options.

Product texts are embedded once, at fit time (about 7 ms each); a request only multiplies
vectors. The embeddings may be given (the benchmark caches them on disk).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from kefu.recommender.base import SIMILAR_TO, Explanation, Interactions, Recommender


class ContentSimilarity(Recommender):
    name = "content"
    reason = SIMILAR_TO

    def __init__(self, embeddings: np.ndarray | None = None) -> None:
        self.embeddings = embeddings

    def _fit(self, data: Interactions) -> None:
        if self.embeddings is None:
            from kefu.embeddings import embed_passages  # loads the encoder: only when fitting

            texts = [self.catalogue.text(i) for i in range(len(self.catalogue))]
            self.embeddings = embed_passages(texts)
        if self.embeddings.shape[0] != len(self.catalogue):
            raise ValueError("one embedding per catalogue product is needed")
        self.embeddings = np.asarray(self.embeddings, dtype=np.float32)

    def score(
        self, histories: sp.csr_matrix, users: Sequence[int] | None = None, exclude_bought: bool = True
    ) -> np.ndarray:
        weights = sp.csr_matrix(histories, dtype=np.float32)
        totals = np.asarray(weights.sum(axis=1)).ravel()
        totals[totals == 0] = 1.0
        profiles = sp.diags(1.0 / totals) @ weights @ self.embeddings
        return np.asarray(profiles @ self.embeddings.T, dtype=np.float32)

    def similarity(self, product: int) -> np.ndarray:
        """Cosine similarity of one product to every product (vectors are L2-normalised)."""
        return self.embeddings @ self.embeddings[product]

    def explain(self, history: sp.csr_matrix, product: int) -> Explanation:
        bought = history.indices
        if len(bought) == 0:
            return self.reason, None, {}
        best = int(np.argmax(self.embeddings[bought] @ self.embeddings[product]))
        return self.reason, int(bought[best]), {}
