"""``python -m bench --store URI``: the 100,000-paragraph scale run on a Milvus store, beside the
local store, in the same run.

**Milvus Lite is not a performance target**: it serves Milvus' protocol from pure Python inside
this process, for trying report-qa on Milvus and for tests. A Milvus server (standalone or a
cluster, see ``deploy/``) is the target; its figures come from ``--store http://HOST:19530``.

The corpus and vectors are :mod:`bench.scale`'s (the stand-in paragraph vectors of
:func:`bench.corpus.paragraph_vectors`), written in documents of 100 paragraphs through the
store's own write path (:meth:`MilvusStore.write`). Figures:

- ``store_insert_per_s``: paragraphs written per second, BM25 analysis and vector indexing
  included, until the store has sealed them. The collection is kept; a later run against the
  same store reuses it and reports the figure recorded when it was built (``store_cached``).
- ``store_hybrid_p50_ms``/``p95``: the query path of :mod:`qa.retrieval.store_retriever`: a BM25 and a
  dense search in the store (top 100 each), the other signal of each hit read back, the dense
  floor searched, fused here, top 10. Query vectors are given.
- ``store_recall_at_10``: the store's dense top 10 (HNSW) against exact search (FAISS
  ``IndexFlatIP``), tie-aware as ``ann_recall_at_10``.
- ``store_agreement_at_10``: overlap of the store's hybrid top 10 with the local hybrid's (our
  BM25 and exact dense, fused over all paragraphs as :class:`qa.retrieval.retriever.Retriever` does).
- ``store_rrf_*`` and ``store_weighted_ranker_*``: Milvus' own ``hybrid_search`` with
  ``RRFRanker(60)`` and ``WeightedRanker(0.5, 0.5)``, measured against the same local hybrid:
  the query path fuses locally because that agrees with it best.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.common import log, percentile_ms
from bench.corpus import Corpus, paragraph_vectors, synthetic_corpus
from bench.scale import TOP_K, scale_lexical_index, sentence_vectors, tie_aware_recall, timed, top_k
from embeddings.home import atomic_write
from embeddings.stores import StoredDocument, StoredLibrary, StoredPassage, open_store
from embeddings.stores.milvus_schema import collection_names
from embeddings.stores.milvus_search import MilvusCollection
from qa.documents.document import Document
from qa.documents.passages import passage_text
from qa.documents.stored import LEXICAL_ANALYZER
from qa.language.textnorm import Tokenizer, normalize, quoted_terms, romanized
from qa.retrieval.retriever import weighted_fusion
from qa.retrieval.store_retriever import CANDIDATES, LexicalQuery, question_text, rank, store_signals

DOCUMENT_SIZE = 100  # paragraphs per synthetic document
STORE_QUERIES = 20  # dev questions asked of the store (Milvus Lite takes seconds per BM25 search at 100k)
LITE_NOTE = "Milvus Lite is not a performance target (pure Python, in this process); a Milvus server is"


def run_store(uri: str, document: Document, encoder, questions: Sequence[str], home: Path, cache_dir: Path,
              paragraphs: int = 100_000) -> dict[str, object]:
    started = time.perf_counter()
    store = open_store(uri, home)
    out: dict[str, object] = {"store_uri": uri, "store_note": LITE_NOTE}
    corpus = synthetic_corpus(document, paragraphs)
    vectors = paragraph_vectors(corpus, sentence_vectors(encoder, corpus.sentences, cache_dir, corpus.sentence_fingerprint()))
    questions = list(questions[:STORE_QUERIES])
    query_vectors = encoder.encode_queries(questions)
    tokenizer = Tokenizer(quoted_terms([passage_text(document, p) for p in document.paragraphs]))

    log(f"store: local reference over {len(corpus)} paragraphs (our BM25, exact dense, weighted fusion)")
    lexical = scale_lexical_index(corpus, tokenizer)
    local_top = [top_k(weighted_fusion(lexical.scores(q), vectors @ v, lexical_weight=0.5), TOP_K)
                 for q, v in zip(questions, query_vectors)]
    exact = [np.sort(vectors @ v)[::-1][:TOP_K] for v in query_vectors]
    del lexical

    library = _library(corpus, tokenizer, f"bench:{paragraphs}:{corpus.sentence_fingerprint()}")
    model_id = f"{encoder.model_id}+bench-stand-in"
    out.update(_build(store, library, model_id, vectors, cache_dir))
    collection = MilvusCollection(store.client, collection_names(library.roots, model_id, library.analyzer).passages, uri)

    texts = [question_text(q, tokenizer) for q in questions]

    def hybrid(i: int) -> np.ndarray:
        found = store_signals(collection, LexicalQuery((texts[i],)), query_vectors[i], None, len(corpus))
        return np.array([candidate.passage_index for candidate in rank(found, "hybrid", TOP_K, _paragraph)])

    def milvus_hybrid(ranker: str) -> Callable[[int], np.ndarray]:
        def search(i: int) -> np.ndarray:
            hits = collection.search_hybrid(texts[i], query_vectors[i], TOP_K, ranker, depth=CANDIDATES)
            return np.array([_paragraph((hit.source, hit.position)) for hit in hits])
        return search

    samples, hybrid_top = timed(hybrid, len(questions))
    out.update(store_hybrid_p50_ms=percentile_ms(samples, 50), store_hybrid_p95_ms=percentile_ms(samples, 95),
               store_agreement_at_10=_agreement(hybrid_top, local_top))
    samples, _ = timed(lambda i: collection.search_lexical([texts[i]], CANDIDATES), len(questions))
    out["store_bm25_p50_ms"] = percentile_ms(samples, 50)
    samples, dense = timed(lambda i: collection.search_dense(query_vectors[i], TOP_K), len(questions))
    out["store_dense_p50_ms"] = percentile_ms(samples, 50)
    recall = [tie_aware_recall(np.array([hit.score for hit in hits]), e) for hits, e in zip(dense, exact)]
    out["store_recall_at_10"] = round(float(np.mean(recall)), 4)
    for ranker, key in (("rrf", "store_rrf"), ("weighted", "store_weighted_ranker")):
        samples, top = timed(milvus_hybrid(ranker), len(questions))
        out[f"{key}_p50_ms"] = percentile_ms(samples, 50)
        out[f"{key}_agreement_at_10"] = _agreement(top, local_top)
    out.update(store_paragraphs=len(corpus), store_queries=len(questions),
               store_total_s=round(time.perf_counter() - started, 1))
    log(f"store: hybrid p50 {out['store_hybrid_p50_ms']:.1f} ms, recall@10 {out['store_recall_at_10']}, "
        f"agreement@10 {out['store_agreement_at_10']} ({out['store_total_s']} s in all)")
    return out


def _library(corpus: Corpus, tokenizer: Tokenizer, root: str) -> StoredLibrary:
    """The corpus as documents of ``DOCUMENT_SIZE`` paragraphs, read by BM25 as the query path
    reads a report (normalized text, then the pinyin of its words; per sentence, then joined)."""
    normalized = [normalize(sentence) for sentence in corpus.sentences]
    pinyin = [" ".join(romanized(tokenizer.tokenize(sentence))) for sentence in corpus.sentences]

    def lexical(first: int, count: int) -> Callable[[], list[str]]:
        members = corpus.members[first:first + count]
        return lambda: ["".join(normalized[i] for i in ids) + "\n" + " ".join(pinyin[i] for i in ids) for ids in members]

    documents = []
    for first in range(0, len(corpus), DOCUMENT_SIZE):
        count = min(DOCUMENT_SIZE, len(corpus) - first)
        texts = [corpus.text(first + position) for position in range(count)]
        passages = tuple(StoredPassage(position, "", "", position + 1, 0, len(text), text, text)
                         for position, text in enumerate(texts))
        documents.append(StoredDocument(f"p{first:07d}", "", passages, lexical(first, count)))
    return StoredLibrary((root,), tuple(documents), LEXICAL_ANALYZER)


def _paragraph(key: tuple[str, int]) -> int:
    """The corpus paragraph of a (source, position) key (documents are named by their first paragraph)."""
    return int(key[0][1:]) + key[1]


def _build(store, library: StoredLibrary, model_id: str, vectors: np.ndarray, cache_dir: Path) -> dict[str, object]:
    """Write the documents the store lacks, timed; or reuse the figures recorded when it was built."""
    names = collection_names(library.roots, model_id, library.analyzer)
    record = cache_dir / f"store-{names.passages}.json"
    store.prepare(names, vectors.shape[1], library.analyzer)
    stored = store.markers(names)
    todo = [d for d in library.documents if stored.get(d.source) != d.key(model_id)]
    if not todo and record.is_file():
        return {**json.loads(record.read_text(encoding="utf-8")), "store_cached": True}
    rows = sum(len(d.passages) for d in todo)
    log(f"store: writing {rows} paragraphs to {store.uri} in {len(todo)} documents")
    start = time.perf_counter()
    for document in todo:
        first = int(document.source[1:])
        store.write(names, document, document.key(model_id), vectors[first:first + len(document.passages)],
                    replace=document.source in stored)
    store.flush(names)
    seconds = time.perf_counter() - start
    figures = {"store_insert_s": round(seconds, 1), "store_insert_per_s": round(rows / seconds, 1)}
    cache_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(record, json.dumps(figures).encode("utf-8"))
    return {**figures, "store_cached": False}




def _agreement(found: Sequence[np.ndarray], reference: Sequence[np.ndarray]) -> float:
    return round(float(np.mean([len(set(a.tolist()) & set(b.tolist())) / TOP_K for a, b in zip(found, reference)])), 4)
