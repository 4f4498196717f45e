"""Fusion of BM25 and dense scores, and retrieval quality per retriever on the question sets."""

from __future__ import annotations

import numpy as np
import pytest

from qa.evaluate import evaluate, read_gold
from qa.retrieval.retriever import normalize_scores, reciprocal_rank_fusion, weighted_fusion

from conftest import DEV_GOLD, TEST_DATA


def test_normalize_scores_maps_to_unit_range_and_flat_to_zero() -> None:
    assert normalize_scores(np.array([2.0, 4.0, 3.0])).tolist() == [0.0, 1.0, 0.5]
    assert normalize_scores(np.array([0.0, 0.0])).tolist() == [0.0, 0.0]


def test_weighted_fusion_lets_dense_decide_when_bm25_finds_nothing() -> None:
    lexical = np.zeros(3, dtype=np.float32)  # e.g. an English question: no shared token
    dense = np.array([0.80, 0.91, 0.85], dtype=np.float32)
    assert int(np.argmax(weighted_fusion(lexical, dense, 0.5))) == 1


def test_weighted_fusion_keeps_a_clear_bm25_winner() -> None:
    lexical = np.array([30.0, 2.0, 1.0], dtype=np.float32)
    dense = np.array([0.88, 0.90, 0.80], dtype=np.float32)  # dense mildly prefers another
    assert int(np.argmax(weighted_fusion(lexical, dense, 0.5))) == 0


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    lexical = np.array([3.0, 2.0, 1.0])
    dense = np.array([0.5, 0.9, 0.1])
    fused = reciprocal_rank_fusion(lexical, dense, k=60)
    assert fused[1] > fused[2] and fused[0] > fused[2]
    assert fused[0] == pytest.approx(1 / 61 + 1 / 62)


@pytest.mark.parametrize(
    ("gold", "minimum_hit_at_1", "minimum_hit_at_3"),
    [
        (DEV_GOLD, 0.98, 1.0),
        (TEST_DATA / "traditional_colloquial.jsonl", 0.9, 0.95),
        (TEST_DATA / "english.jsonl", 0.3, 0.8),
    ],
)
def test_hybrid_retrieval_quality(assistant, gold, minimum_hit_at_1, minimum_hit_at_3) -> None:
    metrics = evaluate(read_gold(gold), lambda q: assistant.ask(q, top_k=5)).metrics
    assert metrics["hit@1"] >= minimum_hit_at_1
    assert metrics["hit@3"] >= minimum_hit_at_3


def test_hybrid_beats_each_retriever_alone_on_variants(assistant) -> None:
    """Fusion must not throw away what either retriever finds on traditional and colloquial wording."""
    questions = read_gold(TEST_DATA / "traditional_colloquial.jsonl")
    retriever = assistant.retriever
    hits = {"bm25": 0, "dense": 0, "fused": 0}
    for gold in questions:
        signals = retriever.signals(gold.question)
        signals["fused"] = retriever.fuse(signals["bm25"], signals["dense"])
        for name, scores in signals.items():
            top = assistant.library.passages[int(np.argmax(scores))].paragraph
            hits[name] += any(e in top.text for e in gold.evidence)
    assert hits["fused"] >= max(hits["bm25"], hits["dense"])
