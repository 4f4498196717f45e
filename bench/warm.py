"""In-process figures: index build with the model loaded, warm ask, one-query encode."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench.common import log, percentile_ms, time_each

PASSES = 3


def run_warm(assistant, questions: Sequence[str], passes: int = PASSES) -> dict[str, object]:
    """Warm ask and encode, interleaved per pass so drifting machine load hits both alike.

    Warm: one untimed pass first fills what a running assistant keeps of the passages it has
    read (their sentences' tags, quantities, clauses); what it keeps of a question is emptied
    before every timed ask (see :func:`question_cache_clearer`).
    """
    encoder = assistant.retriever.encoder
    forget = question_cache_clearer(assistant)
    for question in questions:
        assistant.ask(question)
        encoder.encode_queries([question])
    asks, encodes = [], []
    with reader_timer(assistant) as reads:
        for _ in range(passes):
            asks += time_each(assistant.ask, questions, before=forget)
            encodes += time_each(lambda q: encoder.encode_queries([q]), questions, before=forget)
    out = {
        "warm_ask_p50_ms": round(percentile_ms(asks, 50), 2),
        "warm_ask_p95_ms": round(percentile_ms(asks, 95), 2),
        "encode_p50_ms": round(percentile_ms(encodes, 50), 2),
        "warm_questions": len(questions) * passes,
    }
    out["warm_ratio"] = round(out["warm_ask_p50_ms"] / out["encode_p50_ms"], 3)
    if reads:
        out["reader_ms"] = round(percentile_ms(reads, 50), 2)
    log(f"warm ask p50 {out['warm_ask_p50_ms']} ms, encode p50 {out['encode_p50_ms']} ms, ratio {out['warm_ratio']}")
    return out


@contextlib.contextmanager
def reader_timer(assistant) -> Iterator[list[float]]:
    """Seconds of each call of the assistant's answer reader while the block runs (none without one)."""
    reader = assistant.answerer.reader
    spent: list[float] = []
    if reader is None:
        yield spent
        return
    read = reader.read

    def timed(*args, **kwargs):
        began = time.perf_counter()
        try:
            return read(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - began)

    reader.read = timed
    try:
        yield spent
    finally:
        del reader.read


def question_cache_clearer(assistant):
    """Empties what ``assistant`` keeps per question: its query vectors (when its encoder caches
    them), its readings of questions, the glosses of English ones and the tokens of both, so
    every timed ask encodes, tokenizes and reads its question again.

    The dev questions repeat across passes; a real new question is never cached. (Caches keyed
    by a passage's text, such as its sentences' part-of-speech tags, stay: every question
    reads them.)
    """
    caches = [getattr(assistant.encoder, "_query_cache", None), assistant.answerer.read, assistant.answerer.verdicts,
              assistant.retriever.glossary.glosses]
    clears = [cache.cache_clear for cache in caches if hasattr(cache, "cache_clear")]
    clears.append(assistant.answerer.tokenizer.forget_questions)

    def clear() -> None:
        for cache_clear in clears:
            cache_clear()

    return clear


def run_bm25_warm(bm25_assistant, questions: Sequence[str], passes: int = PASSES) -> dict[str, object]:
    """Warm BM25-only ask over the report, beside rank-bm25 + jieba scoring the same passages."""
    from rank_bm25 import BM25Okapi

    from bench.scale import baseline_tokenize

    passages = bm25_assistant.library.prepared[0].passages
    okapi = BM25Okapi([baseline_tokenize(p) for p in passages])
    lexical = bm25_assistant.retriever.lexical
    for question in questions[:5]:
        lexical.scores(question)
        okapi.get_scores(baseline_tokenize(question))
    ours, theirs = [], []
    for _ in range(passes):
        ours += time_each(lexical.scores, questions)
        theirs += time_each(lambda q: okapi.get_scores(baseline_tokenize(q)), questions)
    return {"bm25_p50_ms": round(percentile_ms(ours, 50), 3), "baseline_bm25_p50_ms": round(percentile_ms(theirs, 50), 3)}


def run_index_build(assistant) -> dict[str, object]:
    """Time encoding and storing the report's vectors into an empty folder, the encoder already loaded."""
    from embeddings.vector_store import VectorStore

    encoder = assistant.retriever.encoder
    passages = assistant.library.prepared[0].passages
    with tempfile.TemporaryDirectory(prefix="report-qa-bench-") as directory:
        store = VectorStore(Path(directory), encoder.model_id, encoder.dim)
        start = time.perf_counter()
        [vectors] = store.sync([("report", passages)], encoder, log=lambda message: None)
        seconds = time.perf_counter() - start
    assert len(vectors) == len(passages)
    log(f"index build {seconds:.2f} s for {len(passages)} passages")
    return {"index_build_s": round(seconds, 3), "index_passages": len(passages)}
