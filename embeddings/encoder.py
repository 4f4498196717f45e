"""Sentence embeddings for queries and passages (CPU): the interface both backends share, the
sentence-transformers backend, and `load_encoder`, which picks the backend for a model."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings.batching import QueryBatcher
from embeddings.models import is_prepared_default, model_identity, prompts_for, resolve_model

QUERY_CACHE_SIZE = 64
BACKEND_ENV = "REPORT_QA_BACKEND"
# OpenMP threads that spin while waiting turn one query into ~1 s whenever another process
# holds a core (measured: 938 ms spinning, 33 ms passive); must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def load_encoder(model: str | None = None, home: Path | None = None) -> TextEncoder:
    """The encoder for `model` (see `resolve_model`): onnxruntime for the prepared default model,
    sentence-transformers for any other. `REPORT_QA_BACKEND=torch` forces sentence-transformers."""
    backend = os.environ.get(BACKEND_ENV, "").strip().lower()
    if backend not in ("", "torch"):
        raise ValueError(f"{BACKEND_ENV} must be unset or 'torch', not {backend!r}")
    resolved = resolve_model(model, home)
    if backend == "torch" or not is_prepared_default(resolved):
        return Encoder(resolved)
    from embeddings.onnx_encoder import OnnxEncoder

    return OnnxEncoder(resolved)


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


class Encoder(TextEncoder):
    """A sentence-transformers model with its family's query and passage prompts."""

    def __init__(self, model: str | None = None, home: Path | None = None) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        self.model_path = resolve_model(model, home)
        self.model_id = model_identity(self.model_path)
        self.query_prompt, self.passage_prompt = prompts_for(self.model_path)
        bar_was_enabled = transformers_logging.is_progress_bar_enabled()
        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start
        try:
            self._model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
        finally:
            if bar_was_enabled:
                transformers_logging.enable_progress_bar()
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dimension())
        super().__init__()

    def _embed(self, texts: list[str], prompt: str, batch_size: int, progress: bool) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            prompt=prompt or None,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
