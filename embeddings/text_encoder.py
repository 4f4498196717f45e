"""What retrieval needs of a sentence encoder: the interface every backend implements
(:class:`embeddings.encoder.Encoder`, :class:`embeddings.onnx_encoder.OnnxEncoder`)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from embeddings.batching import QueryBatcher

QUERY_CACHE_SIZE = 64


class TextEncoder:
    """What retrieval needs of an encoder; a backend sets the attributes and implements `_embed`.

    `model_id` is what index manifests record: the same for every backend of one model, so an
    index built through one is valid for the other.
    """

    model_path: str
    model_id: str
    dim: int
    query_prompt: str
    passage_prompt: str

    def __init__(self) -> None:
        self._query_cache = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(self._encode_query)
        self.batcher = QueryBatcher(self.encode_queries)

    def encode_query(self, text: str) -> np.ndarray:
        """float32 (dim,) vector of one query; the last few are cached, so retrieval and
        highlighting of the same question share one encode, and queries asked at the same time
        from several threads are encoded in one batch (see :mod:`embeddings.batching`).
        Do not modify the returned array."""
        return self._query_cache(text)

    def _encode_query(self, text: str) -> np.ndarray:
        vector = np.array(self.batcher.encode(text), dtype=np.float32)
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
        return self._embed(list(texts), prompt, batch_size, progress)

    def _embed(self, texts: list[str], prompt: str, batch_size: int, progress: bool) -> np.ndarray:
        """float32 (n, dim) L2-normalized vectors of `prompt + text` for each text (never called with none)."""
        raise NotImplementedError
