"""The local store (the default): passage vectors cached on disk per document, searched in a
FAISS index in this process, beside the in-process BM25 of :mod:`qa.retrieval.retriever`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embeddings.stores.base import LOCAL_URI, Log, StoredLibrary, vector_inputs
from embeddings.vector_store import VectorStore, store_directory

if TYPE_CHECKING:
    from embeddings.index import VectorIndex
    from embeddings.text_encoder import TextEncoder


class LocalStore:
    """Vectors under ``home/index/<model>/``; FAISS ``IndexFlatIP`` over the whole library."""

    uri = LOCAL_URI
    in_process = True

    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    def sync(self, library: StoredLibrary, encoder: TextEncoder, *, progress: bool, log: Log) -> VectorIndex:
        """Encode the documents not cached yet; the FAISS index of all passages, in library order."""
        from embeddings.index import VectorIndex  # faiss is loaded only when vectors are searched

        vectors = self._vectors(encoder.model_id, encoder.dim).sync(
            vector_inputs(library.documents), encoder, progress=progress, log=log
        )
        return VectorIndex(np.concatenate(vectors), encoder.dim)

    def indexed(self, library: StoredLibrary, model_id: str) -> list[bool]:
        store = self._vectors(model_id)
        return [store.has(document.encoded) for document in library.documents]

    def _vectors(self, model_id: str, dim: int | None = None) -> VectorStore:
        return VectorStore(store_directory(self.home, model_id), model_id, dim)
