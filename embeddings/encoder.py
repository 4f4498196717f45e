"""Sentence embeddings for queries and passages (CPU): the sentence-transformers backend, and
`load_encoder`, which picks the backend for a model (the interface both share is
:class:`embeddings.text_encoder.TextEncoder`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from embeddings.models import is_prepared_default, model_identity, prompts_for, resolve_model
from embeddings.text_encoder import TextEncoder

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
