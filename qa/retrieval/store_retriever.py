"""Retrieval through a Milvus store: BM25 and dense searches run in Milvus, and their hits are
fused here with :mod:`qa.retrieval.retriever`'s weighted fusion, so candidates carry the same ``bm25``,
``dense`` and ``fused`` signals as the local retriever's.

The candidates are the top ``CANDIDATES`` of each search. Each gets its exact score on the other
signal too: the stored vectors of the BM25 hits are read back, and BM25 searches again among
the dense hits; a passage BM25 does not match there scores 0. The fusion scales each signal over
its range among all passages searched, as the local retriever does, not over the candidates
alone: from its floor (BM25 0, unless every passage scored; dense the lowest inner product,
found by searching with the negated query) to its best. On the 100,000-paragraph bench corpus in
Milvus Lite its top 10 agrees with the local fusion over all passages at 0.95, Milvus' own
``hybrid_search`` at 0.63 (``RRFRanker``) and 0.60 (``WeightedRanker``); see :mod:`bench.store`.

An English question is scored as :meth:`qa.retrieval.retriever.Retriever.signals` scores it: its own words,
plus for each of its words the best of the report's words for it (all searched in one request).
A phrase the library puts in quotes (“三个着力”) is one word to the local BM25, which learns it;
Milvus' jieba splits it. Both index its pinyin (see :mod:`qa.documents.stored`), so the question
also names such a phrase by its pinyin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qa.documents.library import Library
from qa.language.english import Glossary, is_english
from qa.language.textnorm import Tokenizer, normalize, quoted_terms, romanized
from qa.retrieval.retriever import FUSIONS, RETRIEVERS, Candidate, RetrieverName

if TYPE_CHECKING:
    from embeddings.stores.milvus_search import MilvusCollection, PassageKey
    from embeddings.text_encoder import TextEncoder

CANDIDATES = 100  # hits asked of each search
FUSION = FUSIONS["weighted"]


@dataclass(frozen=True)
class Scored:
    """One signal: the score of each candidate passage, and the floor of its range."""

    scores: dict[PassageKey, float]
    floor: float


@dataclass(frozen=True)
class LexicalQuery:
    """What BM25 searches for a question: ``texts[0]``, the question; then, for each of an
    English question's words, ``sizes[i]`` alternative report words, of which the best counts."""

    texts: tuple[str, ...]
    sizes: tuple[int, ...] = ()


class StoreRetriever:
    """Ranks a library's passages for a question with the searches of its Milvus collection."""

    def __init__(self, library: Library, mode: RetrieverName, encoder: TextEncoder | None,
                 collection: MilvusCollection) -> None:
        if mode not in RETRIEVERS:
            raise ValueError(f"unknown retriever {mode!r}; choose one of {', '.join(RETRIEVERS)}")
        self.library = library
        self.mode = mode
        self.encoder = encoder
        self.collection = collection
        normalized = [p.normalized for p in library.passages]
        self.tokenizer = Tokenizer(quoted_terms(normalized))
        self.glossary = Glossary("\n".join(normalized), self.tokenizer, spellings=library.spellings)

    def search(self, question: str, k: int, mask: np.ndarray | None = None) -> list[Candidate]:
        """The ``k`` best passages, best first; only those where ``mask`` is True when given."""
        sources = None if mask is None else self._sources(mask)
        scope = len(self.library) if mask is None else int(mask.sum())
        vector = None if self.mode == "bm25" else self.encoder.encode_query(question)
        found = store_signals(self.collection, self.lexical_query(question), vector, sources, scope)
        return rank(found, self.mode, k, self._passage_index)

    def lexical_query(self, question: str) -> LexicalQuery:
        """The question as the store's BM25 reads it (normalized, then the pinyin of the quoted
        phrases it names) and, for an English question, the report's words for each of its words."""
        text = question_text(question, self.tokenizer)
        if not is_english(question):
            return LexicalQuery((text,))
        groups = [words for words in self.glossary.glosses(question).values() if words]
        return LexicalQuery((text, *(word for words in groups for word in words)), tuple(len(words) for words in groups))

    def _sources(self, mask: np.ndarray) -> list[str]:
        """The documents whose passages ``mask`` keeps."""
        return [self.library.documents[i].source for i in np.unique(self.library.document_of_passage[mask])]

    def _passage_index(self, key: PassageKey) -> int:
        return self.library.passage_of(*key).index


def question_text(question: str, tokenizer: Tokenizer) -> str:
    """The question normalized, then the pinyin of the quoted phrases it names (``tokenizer``
    knows the library's)."""
    phrases = {normalize(term) for term in tokenizer.extra_words}
    named = [token for token in tokenizer.question_tokens(question) if token in phrases]
    return " ".join([normalize(question), *romanized(named)])


def store_signals(collection: MilvusCollection, query: LexicalQuery, vector: np.ndarray | None,
                  sources: Sequence[str] | None, scope: int) -> dict[str, Scored]:
    """The candidates' ``bm25`` (and, given a query vector, ``dense``) scores, each exact for
    every candidate, with each signal's floor; ``scope`` passages are searched."""
    bm25 = bm25_scores(collection, query, CANDIDATES, sources)
    if vector is None:
        return {"bm25": Scored(bm25, _bm25_floor(bm25, scope))}
    dense = {(hit.source, hit.position): hit.score for hit in collection.search_dense(vector, CANDIDATES, sources)}
    dense.update(((hit.source, hit.position), hit.score)
                 for hit in collection.dense_scores(vector, [key for key in bm25 if key not in dense]))
    unmatched = [key for key in dense if key not in bm25]
    if unmatched:
        bm25.update(bm25_scores(collection, query, len(unmatched), within=unmatched))
    if len(dense) >= scope:
        dense_floor = min(dense.values())
    else:
        lowest = collection.search_dense(-vector, 1, sources)
        dense_floor = -lowest[0].score if lowest else min(dense.values())
    return {"bm25": Scored(bm25, _bm25_floor(bm25, scope)), "dense": Scored(dense, dense_floor)}


def bm25_scores(collection: MilvusCollection, query: LexicalQuery, limit: int, sources: Sequence[str] | None = None,
                within: Sequence[PassageKey] | None = None) -> dict[PassageKey, float]:
    """BM25 of the question's words plus, for each group of alternatives, the best of them:
    the ``limit`` best passages of each text (among ``sources``, or only ``within``)."""
    found = collection.search_lexical(query.texts, limit, sources, within)
    total = {(hit.source, hit.position): hit.score for hit in found[0]}
    start = 1
    for size in query.sizes:
        best: dict[PassageKey, float] = {}
        for hits in found[start:start + size]:
            for hit in hits:
                best[hit.source, hit.position] = max(best.get((hit.source, hit.position), 0.0), hit.score)
        start += size
        for key, score in best.items():
            total[key] = total.get(key, 0.0) + score
    return total


def _bm25_floor(scores: Mapping[PassageKey, float], scope: int) -> float:
    """0 (some passage lacks every word), unless every one of the ``scope`` passages scored."""
    return min(scores.values()) if len(scores) >= scope else 0.0


def rank(found: Mapping[str, Scored], mode: RetrieverName, k: int, index: Callable[[PassageKey], int]
         ) -> list[Candidate]:
    """The ``k`` best candidates by ``mode``'s score (hybrid: the weighted fusion, each signal
    scaled from its floor), with every signal; ``index`` numbers a passage (ties go to the lower)."""
    keys = sorted(set().union(*(signal.scores for signal in found.values())), key=index)
    signals = {name: np.array([signal.scores.get(key, signal.floor) for key in keys], dtype=np.float32)
               for name, signal in found.items()}
    if mode == "hybrid":
        bm25, dense = (np.append(signals[name], found[name].floor) for name in ("bm25", "dense"))
        fused = signals["fused"] = FUSION(bm25, dense)[:-1]
    else:
        fused = signals[mode]
    order = np.argsort(-fused, kind="stable")[:k]
    return [
        Candidate(index(keys[i]), float(fused[i]), {name: float(values[i]) for name, values in signals.items()})
        for i in order
    ]
