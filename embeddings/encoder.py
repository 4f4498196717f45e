"""Sentence embeddings for queries and passages through sentence-transformers (CPU)."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings.models import model_identity, prompts_for, resolve_model


QUERY_CACHE_SIZE = 64
# OpenMP threads that spin while waiting turn one query into ~1 s whenever another process
# holds a core (measured: 938 ms spinning, 33 ms passive); must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Encoder:
    """A sentence-transformers model with its family's query and passage prompts."""

    def __init__(self, model: str | None = None, home: Path | None = None) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        self.model_path: str = resolve_model(model, home)
        self.model_id: str = model_identity(self.model_path)  # what index manifests record
        self.query_prompt, self.passage_prompt = prompts_for(self.model_path)
        bar_was_enabled = transformers_logging.is_progress_bar_enabled()
        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start
        try:
            self._model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
        finally:
            if bar_was_enabled:
                transformers_logging.enable_progress_bar()
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim: int = int(get_dimension())
        self._query_cache = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(self._encode_query)

    def encode_query(self, text: str) -> np.ndarray:
        """float32 (dim,) vector of one query; the last few are cached, so retrieval and
        highlighting of the same question share one encode. Do not modify the returned array."""
        return self._query_cache(text)

    def _encode_query(self, text: str) -> np.ndarray:
        vector = self.encode_queries([text])[0]
        vector.flags.writeable = False
        return vector

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (n, dim) L2-normalized query vectors."""
        return self._encode(texts, self.query_prompt, batch_size=32, progress=False)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """float32 (n, dim) L2-normalized passage vectors."""
        return self._encode(texts, self.passage_prompt, batch_size=batch_size, progress=progress)

    def _encode(self, texts: Sequence[str], prompt: str, batch_size: int, progress: bool) -> np.ndarray:
        if len(texts) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            prompt=prompt or None,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
