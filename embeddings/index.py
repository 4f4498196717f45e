"""An exact inner-product index over passage vectors held in memory (FAISS ``IndexFlatIP``).

The vectors come from :class:`embeddings.vector_store.VectorStore`, which keeps them on disk
per document; this index is rebuilt from them at start and whenever the library changes.
"""

from __future__ import annotations

import faiss
import numpy as np


class VectorIndex:
    """Passage vectors in a FAISS ``IndexFlatIP``, searched by position."""

    def __init__(self, vectors: np.ndarray, dim: int) -> None:
        self.index = faiss.IndexFlatIP(dim)
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def __len__(self) -> int:
        return self.index.ntotal

    def search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n_queries, min(k, len(self))), best first."""
        queries = np.ascontiguousarray(np.atleast_2d(query_vectors), dtype=np.float32)
        k = min(k, self.index.ntotal)
        if k <= 0:
            return np.empty((len(queries), 0), dtype=np.float32), np.empty((len(queries), 0), dtype=np.int64)
        return self.index.search(queries, k)

    def scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Inner product of one query with every passage, in passage order (float32, shape ``(n,)``):
        one product with the index's stored vectors, read in place (a search for all of them
        would also sort them)."""
        stored = faiss.rev_swig_ptr(self.index.get_xb(), self.index.ntotal * self.index.d)
        return stored.reshape(-1, self.index.d) @ np.asarray(query_vector, dtype=np.float32)
