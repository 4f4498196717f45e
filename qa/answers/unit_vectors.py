"""Vectors of every passage's answer units, encoded when its document is indexed.

The answer step compares the question with each sentence (clause) of its candidates (see
:func:`qa.answers.highlight.answer_units`). Encoded at question time, they made a fresh
server's first questions up to 25x slower than warm ones; they are encoded once per document
instead and kept on disk beside the passage vectors, keyed by content (see
:class:`embeddings.vector_store.VectorStore`): an unchanged document is never encoded again.
Together they also tell how many topics the library spans (:func:`diversity`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embeddings.vector_store import VectorStore, store_directory
from qa.answers.highlight import answer_units
from qa.documents.library import Library

if TYPE_CHECKING:
    from embeddings.text_encoder import TextEncoder

UNITS_FOLDER = "units"


def unit_vectors(library: Library, encoder: TextEncoder, home: Path, *, progress: bool = False,
                 log: Callable[[str], None]) -> list[np.ndarray]:
    """One (units, dim) array per passage of ``library``, in passage order, encoding only the
    documents whose units are not stored intact under ``home``."""
    store = VectorStore(store_directory(home, encoder.model_id) / UNITS_FOLDER, encoder.model_id, encoder.dim,
                        unit="sentences")
    units = [[answer_units(p) for p in item.document.paragraphs] for item in library.prepared]
    documents = [(item.document.source, [u.text for found in document for u in found])
                 for item, document in zip(library.prepared, units)]
    per_passage = []
    for vectors, document in zip(store.sync(documents, encoder, progress=progress, log=log), units):
        sizes = [len(found) for found in document]
        per_passage += np.split(vectors, np.cumsum(sizes)[:-1]) if sizes else []
    return per_passage


def diversity(per_passage: Sequence[np.ndarray]) -> float:
    """How spread a library's sentences are: one minus the squared norm of their unit vectors' mean
    (0 when every sentence says the same; nearer 1 the more the topics). The shipped report measures
    about 0.13 and a library of Wikipedia articles about 0.18."""
    count = sum(len(vectors) for vectors in per_passage)
    if not count:
        return 0.0
    mean = sum(vectors.sum(axis=0, dtype=np.float64) for vectors in per_passage if len(vectors)) / count
    return float(1.0 - mean @ mean)
