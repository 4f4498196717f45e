"""Rank a library's passages for a question: BM25, dense vectors, or both fused.

Each paragraph is indexed with its document title, section heading and sub-heading (see
:mod:`qa.documents.passages`); BM25 statistics and the fusion's normalization span the whole library,
or the documents a question is limited to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from qa.documents.library import Library
from qa.language.english import Glossary, is_english
from qa.language.textnorm import Tokenizer, quoted_terms
from qa.retrieval.lexical import LexicalIndex
from qa.retrieval.lexical_cache import lexical_index

if TYPE_CHECKING:
    from embeddings import Encoder, VectorIndex

RetrieverName = Literal["bm25", "dense", "hybrid"]
RETRIEVERS: tuple[RetrieverName, ...] = ("bm25", "dense", "hybrid")


@dataclass(frozen=True)
class Candidate:
    """A library passage with its fused score and each retriever's own score."""

    passage_index: int
    score: float
    signals: dict[str, float]


def normalize_scores(scores: np.ndarray) -> np.ndarray:
    """Scale scores to [0, 1] by min-max over the candidates; all zeros when they are flat."""
    low, high = float(scores.min()), float(scores.max())
    if high - low <= 1e-9:
        return np.zeros_like(scores, dtype=np.float32)
    return ((scores - low) / (high - low)).astype(np.float32)


def weighted_fusion(lexical: np.ndarray, dense: np.ndarray, lexical_weight: float) -> np.ndarray:
    """Convex mix of min-max normalized BM25 and dense scores (RAGFlow-style)."""
    return lexical_weight * normalize_scores(lexical) + (1 - lexical_weight) * normalize_scores(dense)


def reciprocal_rank_fusion(lexical: np.ndarray, dense: np.ndarray, k: int = 60) -> np.ndarray:
    """Sum of ``1 / (k + rank)`` over the two rankings (ranks from 1)."""
    fused = np.zeros_like(lexical, dtype=np.float32)
    for scores in (lexical, dense):
        ranks = np.empty(len(scores), dtype=np.int64)
        ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
        fused += 1.0 / (k + ranks)
    return fused


FUSIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "weighted": lambda lexical, dense: weighted_fusion(lexical, dense, lexical_weight=0.5),
    "rrf": reciprocal_rank_fusion,
}


class Retriever:
    """Scores every passage of a library with BM25 and/or a dense encoder."""

    def __init__(
        self,
        library: Library,
        mode: RetrieverName = "hybrid",
        encoder: Encoder | None = None,
        vectors: VectorIndex | None = None,
        fusion: str = "weighted",
        home: Path | None = None,
    ) -> None:
        """``home``: where the BM25 index is saved and found again (see :mod:`qa.retrieval.lexical_cache`);
        without one it is built in memory."""
        if mode not in RETRIEVERS:
            raise ValueError(f"unknown retriever {mode!r}; choose one of {', '.join(RETRIEVERS)}")
        if mode != "bm25" and (encoder is None or vectors is None):
            raise ValueError(f"the {mode} retriever needs an encoder and a vector index")
        self.library = library
        self.mode = mode
        self.encoder = encoder
        self.vectors = vectors
        self.fuse = FUSIONS[fusion]
        normalized = [p.normalized for p in library.passages]
        tokenizer = Tokenizer(quoted_terms(normalized))
        passage_tokens = [tokens for item in library.prepared for tokens in item.tokens]
        self.lexical = (lexical_index(passage_tokens, tokenizer, home) if home is not None
                        else LexicalIndex.build(passage_tokens, tokenizer))
        self.glossary = Glossary("\n".join(normalized), tokenizer, spellings=library.spellings)

    def signals(self, question: str) -> dict[str, np.ndarray]:
        """Each retriever's score for every passage, keyed ``bm25`` and ``dense``.

        :meth:`search` adds ``fused`` in hybrid mode, so a person sees how the blend was made.
        BM25 matches an English question with the report's words for it (see :mod:`qa.language.english`).
        The query is encoded first, so that all of the question's Python work runs after it in
        one stretch (the encode streams the model's weights through the CPU caches; what runs
        before and after it starts cold twice).
        """
        dense = self.vectors.scores(self.encoder.encode_query(question)) if self.mode != "bm25" else None
        bm25 = self.lexical.scores(question)
        if is_english(question):
            bm25 += self.lexical.synonym_scores(self.glossary.glosses(question).values())
        return {"bm25": bm25} if dense is None else {"bm25": bm25, "dense": dense}

    def search(self, question: str, k: int, mask: np.ndarray | None = None) -> list[Candidate]:
        """The ``k`` best passages, best first; only those where ``mask`` is True when given."""
        allowed = np.flatnonzero(mask) if mask is not None else np.arange(len(self.library))
        signals = {name: values[allowed] for name, values in self.signals(question).items()}
        if self.mode == "bm25":
            fused = signals["bm25"]
        elif self.mode == "dense":
            fused = signals["dense"]
        else:
            fused = signals["fused"] = self.fuse(signals["bm25"], signals["dense"])
        order = np.argsort(-fused, kind="stable")[:k]
        return [
            Candidate(int(allowed[i]), float(fused[i]), {name: float(values[i]) for name, values in signals.items()})
            for i in order
        ]
