"""The 100,000-paragraph scale run: BM25, exact dense, ANN and hybrid, ours beside the baselines.

Ours: the project's :class:`qa.retrieval.lexical.LexicalIndex` (bm25s, sparse score matrix, vectorized
scoring, ``argpartition`` top-k), FAISS ``IndexFlatIP`` (exact) and ``IndexHNSWFlat`` (inner
product) for vectors, and a hybrid that fuses only the candidates (BM25 top C ∪ ANN top C)
with the project's own weighted fusion.
Baselines: rank-bm25 ``BM25Okapi`` over plain ``jieba.lcut_for_search`` tokens (scores every
paragraph in a Python loop per query token, full ``argsort``), and the naive hybrid that scores
every paragraph both ways and fuses all 100,000 (what ``qa.retrieval.retriever.Retriever`` does for one
report).

Vectors at 100k are a stand-in (see :func:`bench.corpus.paragraph_vectors`): each distinct
report sentence is encoded once with the real encoder (cached under
``$REPORT_QA_HOME/bench/``) and a paragraph's vector is the normalized mean of its sentences'.
Query vectors are the real encoder's. Latencies here exclude query encoding (the same ~15 ms
at any corpus size, measured as ``encode_p50_ms``); ``scale_hybrid_with_encode_p50_ms`` adds it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.common import log, percentile_ms
from bench.corpus import Corpus, paragraph_tokens, paragraph_vectors, synthetic_corpus
from qa.documents.document import Document
from qa.documents.passages import passage_text
from qa.language.textnorm import Tokenizer, quoted_terms
from qa.retrieval.lexical import LexicalIndex, index_tokens
from qa.retrieval.retriever import weighted_fusion

TOP_K = 10
CANDIDATES = 100  # per retriever, for the hybrid
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = (64, 128, 256, 512)  # the smallest reaching the recall goal is used
RECALL_GOAL = 0.99
BASELINE_QUERIES = 15  # the baselines take ~0.5-1 s per query at 100k: the first 15 dev questions
BASELINE_STOPWORDS = frozenset("的 了 和 是 在 有 为 对 与 及 什么 多少 哪些 吗 呢 ？ ?".split())
_PUNCT = re.compile(r"^[\W_]+$")


def scale_lexical_index(corpus: Corpus, tokenizer: Tokenizer) -> LexicalIndex:
    """The project's LexicalIndex over the synthetic paragraphs, their tokens computed per sentence.

    A paragraph's index tokens are the :func:`index_tokens` of each of its sentences,
    concatenated: BM25 sees a bag of words, so this equals tokenizing the paragraph whole, at
    1/600 of the cost.
    """
    return LexicalIndex.build(paragraph_tokens(corpus, [index_tokens(tokenizer, s) for s in corpus.sentences]), tokenizer)


def baseline_tokenize(text: str) -> list[str]:
    """The baseline's tokens: ``jieba.lcut_for_search`` minus blanks, punctuation, a few stopwords."""
    import jieba

    return [t for t in jieba.lcut_for_search(text) if t.strip() and not _PUNCT.match(t) and t not in BASELINE_STOPWORDS]


def sentence_vectors(encoder, sentences: Sequence[str], cache_dir: Path, fingerprint: str) -> np.ndarray:
    """The real encoder's passage vectors of the distinct sentences, cached on disk."""
    import os

    safe_model = re.sub(r"[^\w.-]+", "_", str(encoder.model_id))[-80:]
    path = cache_dir / f"sentences-{safe_model}-{fingerprint}.npy"
    if path.is_file():
        vectors = np.load(path)
        if vectors.shape == (len(sentences), encoder.dim):
            return vectors
    log(f"encoding {len(sentences)} distinct report sentences once (cached in {cache_dir})")
    vectors = encoder.encode_passages(list(sentences), batch_size=32)
    cache_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(temporary, vectors)
    os.replace(temporary, path)
    return vectors


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, best first (``argpartition``, then a small sort)."""
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def tie_aware_recall(found_scores: np.ndarray, exact_scores: np.ndarray, k: int = TOP_K, eps: float = 1e-5) -> float:
    """Share of the exact top-k matched: a found item counts if it scores at least the exact k-th.

    Recombined paragraphs repeat sentence sets, so exact ties are common; which of two equal
    vectors is returned does not matter.
    """
    threshold = exact_scores[k - 1] - eps
    return min(int(np.sum(found_scores[:k] >= threshold)), k) / k


def _hnsw(vectors: np.ndarray, cache_dir: Path):
    """The HNSW index of ``vectors``: loaded from the bench cache, else built (and cached).

    Building takes a minute or more on 2 cores, so it is cached by the vectors' hash; the
    build time recorded when it was built is reported either way.
    """
    import hashlib
    import json
    import os

    import faiss

    digest = hashlib.sha256(vectors.tobytes()).hexdigest()[:16]
    path = cache_dir / f"hnsw-{digest}-M{HNSW_M}-efc{HNSW_EF_CONSTRUCTION}.faiss"
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file():
        try:
            index = faiss.read_index(str(path))
            if index.ntotal == len(vectors):
                return index, json.loads(meta.read_text())["build_s"], True
        except (RuntimeError, ValueError, KeyError, OSError):
            pass
    log(f"scale: building HNSW over {len(vectors)} vectors (cached afterwards in {cache_dir})")
    start = time.perf_counter()
    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(vectors)
    build_s = round(time.perf_counter() - start, 2)
    cache_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    faiss.write_index(index, str(temporary))
    os.replace(temporary, path)
    meta.write_text(json.dumps({"build_s": build_s}))
    return index, build_s, False


def timed(function: Callable[[int], object], count: int, warmup: int = 3) -> tuple[list[float], list[object]]:
    """Seconds of ``function(i)`` for each ``i < count`` (after ``warmup`` untimed calls), and the results."""
    for i in range(min(warmup, count)):
        function(i)
    samples, results = [], []
    for i in range(count):
        start = time.perf_counter()
        results.append(function(i))
        samples.append(time.perf_counter() - start)
    return samples, results


def _p50(function: Callable[[int], object], count: int, warmup: int = 3) -> tuple[float, list[object]]:
    samples, results = timed(function, count, warmup)
    return percentile_ms(samples, 50), results


def run_scale(document: Document, encoder, questions: Sequence[str], cache_dir: Path,
              paragraphs: int = 100_000) -> dict[str, object]:
    import faiss
    from rank_bm25 import BM25Okapi

    out: dict[str, object] = {}
    started = time.perf_counter()
    corpus: Corpus = synthetic_corpus(document, paragraphs)
    out["scale_paragraphs"] = len(corpus)
    out["scale_distinct_sentences"] = len(corpus.sentences)
    log(f"scale: {len(corpus)} synthetic paragraphs from {len(corpus.sentences)} report sentences")

    # --- lexical: ours ---------------------------------------------------------------------
    tokenizer = Tokenizer(quoted_terms([passage_text(document, p) for p in document.paragraphs]))
    start = time.perf_counter()
    lexical = scale_lexical_index(corpus, tokenizer)
    out["scale_bm25_index_s"] = round(time.perf_counter() - start, 2)
    out["scale_bm25_p50_ms"], bm25_top = _p50(lambda i: top_k(lexical.scores(questions[i]), TOP_K), len(questions))

    # --- lexical: baseline rank-bm25 -------------------------------------------------------
    base_tokens = paragraph_tokens(corpus, [baseline_tokenize(s) for s in corpus.sentences])
    start = time.perf_counter()
    okapi = BM25Okapi(base_tokens)
    out["baseline_scale_bm25_index_s"] = round(time.perf_counter() - start, 2)
    del base_tokens

    def okapi_search(i: int) -> np.ndarray:
        scores = okapi.get_scores(baseline_tokenize(questions[i]))
        return np.argsort(-scores, kind="stable")[:TOP_K]

    out["baseline_scale_bm25_p50_ms"], _ = _p50(okapi_search, BASELINE_QUERIES, warmup=1)
    log(f"scale: bm25 ours {out['scale_bm25_p50_ms']:.2f} ms, rank-bm25 {out['baseline_scale_bm25_p50_ms']:.1f} ms")

    # --- vectors ---------------------------------------------------------------------------
    vectors = paragraph_vectors(corpus, sentence_vectors(encoder, corpus.sentences, cache_dir, corpus.sentence_fingerprint()))
    query_vectors = encoder.encode_queries(list(questions))
    dim = vectors.shape[1]
    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)

    def exact(i: int):
        return flat.search(query_vectors[i:i + 1], TOP_K)

    out["scale_dense_p50_ms"], exact_results = _p50(exact, len(questions))
    exact_scores = [scores[0] for scores, _ in exact_results]

    hnsw, out["scale_ann_build_s"], out["scale_ann_cached"] = _hnsw(vectors, cache_dir)
    out["scale_ann"] = f"faiss IndexHNSWFlat(M={HNSW_M}, efConstruction={HNSW_EF_CONSTRUCTION}, inner product)"
    for ef in HNSW_EF_SEARCH:
        hnsw.hnsw.efSearch = ef
        p50, ann_results = _p50(lambda i: hnsw.search(query_vectors[i:i + 1], TOP_K), len(questions))
        recall = float(np.mean([tie_aware_recall(s[0], e) for (s, _), e in zip(ann_results, exact_scores)]))
        id_recall = float(np.mean([len(set(a[0]) & set(b[0])) / TOP_K for (_, a), (_, b) in zip(ann_results, exact_results)]))
        out.update(scale_ann_p50_ms=p50, ann_recall_at_10=round(recall, 4), ann_recall_at_10_ids=round(id_recall, 4),
                   scale_ann_ef_search=ef)
        if recall >= RECALL_GOAL:
            break
    log(f"scale: exact {out['scale_dense_p50_ms']:.2f} ms, HNSW {out['scale_ann_p50_ms']:.2f} ms "
        f"(efSearch {out['scale_ann_ef_search']}, recall@10 {out['ann_recall_at_10']}, build {out['scale_ann_build_s']} s)")

    # --- hybrid: ours (candidates only) vs naive (everything) -----------------------------
    hnsw.hnsw.efSearch = max(int(out["scale_ann_ef_search"]), CANDIDATES)

    def hybrid(question: str, query_vector: np.ndarray) -> np.ndarray:
        lexical_scores = lexical.scores(question)
        _, ann_ids = hnsw.search(query_vector[None, :], CANDIDATES)
        candidates = np.union1d(top_k(lexical_scores, CANDIDATES), ann_ids[0][ann_ids[0] >= 0])
        dense = vectors[candidates] @ query_vector
        fused = weighted_fusion(lexical_scores[candidates], dense, lexical_weight=0.5)
        return candidates[top_k(fused, TOP_K)]

    out["scale_hybrid_p50_ms"], hybrid_top = _p50(lambda i: hybrid(questions[i], query_vectors[i]), len(questions))
    out["scale_hybrid_with_encode_p50_ms"], _ = _p50(
        lambda i: hybrid(questions[i], encoder.encode_queries([questions[i]])[0]), len(questions))

    def naive_hybrid(i: int) -> np.ndarray:
        lexical_scores = okapi.get_scores(baseline_tokenize(questions[i])).astype(np.float32)
        dense = vectors @ query_vectors[i]
        fused = weighted_fusion(lexical_scores, dense, lexical_weight=0.5)
        return np.argsort(-fused, kind="stable")[:TOP_K]

    out["baseline_scale_hybrid_p50_ms"], _ = _p50(naive_hybrid, BASELINE_QUERIES, warmup=1)
    out["baseline_scale_dense_p50_ms"], _ = _p50(lambda i: np.argsort(-(vectors @ query_vectors[i]))[:TOP_K], len(questions))

    # How much the candidate hybrid agrees with fusing all 100k with our own BM25 (quality check).
    def full_hybrid(i: int) -> np.ndarray:
        fused = weighted_fusion(lexical.scores(questions[i]), vectors @ query_vectors[i], lexical_weight=0.5)
        return top_k(fused, TOP_K)

    agreement = [len(set(hybrid_top[i]) & set(full_hybrid(i))) / TOP_K for i in range(len(questions))]
    out["scale_hybrid_agreement_at_10"] = round(float(np.mean(agreement)), 4)
    out["scale_total_s"] = round(time.perf_counter() - started, 1)
    log(f"scale: hybrid {out['scale_hybrid_p50_ms']:.2f} ms (naive {out['baseline_scale_hybrid_p50_ms']:.1f} ms), "
        f"{out['scale_total_s']} s in all")
    return out
