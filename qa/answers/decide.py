"""Re-rank the candidates and decide whether they answer: a fitted logistic model.

Two logistic models, fitted by ``python -m qa.calibrate`` and shipped as ``decision.json``
beside this file. The ranking model turns a candidate's evidence features
(:mod:`qa.answers.features`) into the log-odds that the passage answers the question; the
candidates are re-ranked by it. The answer model reads the evidence features its entry names
(with an encoder, not all of them) of the first candidate after re-ranking and gives the
log-odds that it answers the question; the question counts as answered when they reach the
threshold chosen by cross-validation. At answer time both are dot products: no fitting library
is loaded.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from qa.answers.features import FEATURES, EvidenceContext, assess
from qa.answers.highlight import UNIT_FEATURES
from qa.answers.linear import Linear, probability
from qa.retrieval.retriever import Candidate

if TYPE_CHECKING:
    from qa.answers.reader.runtime import Verdict
    from qa.answers.reading import Reading

MODEL_FILE = Path(__file__).with_name("decision.json")
RERANK_DEPTH = 5  # candidates judged per question, whatever the number shown


@dataclass(frozen=True)
class Model:
    """The ranking model (over every feature), the answer model (over evidence features it names), the
    answer model's threshold on its log-odds, and the sentence model (over the unit features of
    :mod:`qa.answers.highlight`)."""

    rank: Linear
    answer: Linear
    threshold: float
    highlight: Linear


@functools.lru_cache(maxsize=2)
def load_model(with_encoder: bool, path: Path = MODEL_FILE) -> Model:
    """The shipped model for answering with an encoder (hybrid, dense) or without one (bm25)."""
    entry = json.loads(path.read_text(encoding="utf-8"))["models"]["encoder" if with_encoder else "lexical"]
    answer = Linear.from_entry(entry["answer"], tuple(entry["answer"]["weights"]))  # the features the file names
    return Model(Linear.from_entry(entry["rank"], FEATURES), answer, float(entry["threshold"]),
                 Linear.from_entry(entry["highlight"], UNIT_FEATURES))


@dataclass(frozen=True)
class Judgement:
    """Candidates re-ranked by answer evidence, and whether the kept ones answer the question."""

    candidates: tuple[Candidate, ...]
    answered: bool
    reason: str
    verdicts: dict[int, Verdict] = field(default_factory=dict)  # the reader's, by passage index


class JudgeContext(EvidenceContext, Protocol):
    """What judging reads of a library's answer state (:class:`~qa.answers.answerer.Answerer`
    holds it): what the evidence features read, the question's reading and the fitted models."""

    @property
    def model(self) -> Model: ...

    def read(self, question: str) -> Reading: ...


def judge(question: str, candidates: Sequence[Candidate], context: JudgeContext, keep: int) -> Judgement:
    """Re-rank ``candidates`` by the ranking model, keep the best ``keep``, and decide with the
    answer model whether the first of them answers.

    Each kept candidate's ``score`` is the ranking model's probability that it answers; its
    signals gain ``answer`` (the log-odds). When the question is not answered, the reason
    names what the first passage lacks.
    """
    if not candidates:
        return Judgement((), False, "no passage to answer from")
    reading = context.read(question)
    if not reading.weights:
        return Judgement(tuple(candidates[:keep]), False, "问题里没有可在报告中查找的词")
    evidence = assess(question, reading, candidates, context)
    model = context.model
    logits = [model.rank.logit(e.vector()) for e in evidence]
    order = sorted(range(len(candidates)), key=lambda i: -logits[i])
    ranked = tuple(
        replace(candidates[i], score=probability(logits[i]), signals={**candidates[i].signals, "answer": logits[i]})
        for i in order[:keep]
    )
    verdicts = context.verdicts(question, tuple(c.passage_index for c in candidates))
    if model.answer.logit(evidence[order[0]].vector(model.answer.names)) >= model.threshold:
        return Judgement(ranked, True, "", verdicts)
    return Judgement(ranked, False, evidence[order[0]].gap, verdicts)
