"""Re-rank the candidates and decide whether they answer: fitted logistic models.

The models are fitted by ``python -m qa.calibrate`` and shipped as ``decision.json`` beside this
file. The ranking model turns a candidate's evidence features (:mod:`qa.answers.features`) into
the log-odds that the passage answers the question; the candidates are re-ranked by it. The
answer model reads the evidence features its entry names (with an encoder, not all of them) of
the first candidate after re-ranking and gives the log-odds that it answers the question; the
question counts as answered when they reach the threshold chosen by cross-validation.

With an encoder there is a pair of them for each kind of library they were fitted on: the shipped
report, whose passages share one topic, and a library of many topics, where a passage of the
nearest subject tells much less. A library's own kind is read from the spread of its sentence
vectors (:func:`qa.answers.unit_vectors.diversity`): between two kinds' calibration libraries,
their log-odds (less their thresholds) are mixed in proportion. At answer time all of it is dot
products: no fitting library is loaded.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

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
class Kind:
    """The ranking model (over every feature), the answer model (over the evidence features it
    names) and its threshold on their log-odds, fitted on one kind of library, whose diversity
    (:func:`qa.answers.unit_vectors.diversity`) they keep (None without an encoder: one kind)."""

    diversity: float | None
    rank: Linear
    answer: Linear
    threshold: float


@dataclass(frozen=True)
class Model:
    """Each kind's models, in increasing diversity, and the sentence model (over the unit features
    of :mod:`qa.answers.highlight`)."""

    kinds: tuple[Kind, ...]
    highlight: Linear

    def mix(self, diversity: float | None) -> tuple[float, ...]:
        """Each kind's share in a library of ``diversity``: linear between the two kinds whose
        diversities surround it, all on the nearest kind beyond them, all on the first kind when the
        library's diversity is unknown (no encoder)."""
        shares = np.zeros(len(self.kinds))
        if diversity is None or len(self.kinds) == 1:
            shares[0] = 1.0
            return tuple(float(share) for share in shares)
        position = float(np.interp(diversity, [kind.diversity for kind in self.kinds], np.arange(len(self.kinds))))
        low = min(int(position), len(self.kinds) - 2)
        shares[low], shares[low + 1] = low + 1 - position, position - low
        return tuple(float(share) for share in shares)


@functools.lru_cache(maxsize=2)
def load_model(with_encoder: bool, path: Path = MODEL_FILE) -> Model:
    """The shipped model for answering with an encoder (hybrid, dense) or without one (bm25)."""
    entry = json.loads(path.read_text(encoding="utf-8"))["models"]["encoder" if with_encoder else "lexical"]
    kinds = tuple(
        Kind(kind["diversity"], Linear.from_entry(kind["rank"], FEATURES),
             Linear.from_entry(kind["answer"], tuple(kind["answer"]["weights"])),  # the features the file names
             float(kind["threshold"]))
        for kind in sorted(entry["kinds"], key=lambda kind: kind["diversity"] or 0.0)
    )
    return Model(kinds, Linear.from_entry(entry["highlight"], UNIT_FEATURES))


@dataclass(frozen=True)
class Judgement:
    """Candidates re-ranked by answer evidence, and whether the kept ones answer the question."""

    candidates: tuple[Candidate, ...]
    answered: bool
    reason: str
    verdicts: dict[int, Verdict] = field(default_factory=dict)  # the reader's, by passage index


class JudgeContext(EvidenceContext, Protocol):
    """What judging reads of a library's answer state (:class:`~qa.answers.answerer.Answerer`
    holds it): what the evidence features read, the question's reading, the fitted models and the
    library's diversity (None without an encoder)."""

    @property
    def model(self) -> Model: ...

    @property
    def diversity(self) -> float | None: ...

    def read(self, question: str) -> Reading: ...


def judge(question: str, candidates: Sequence[Candidate], context: JudgeContext, keep: int) -> Judgement:
    """Re-rank ``candidates`` by the ranking model, keep the best ``keep``, and decide with the
    answer model whether the first of them answers (each kind's, mixed as :meth:`Model.mix` says
    for the library).

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
    kinds = [(share, kind) for share, kind in zip(model.mix(context.diversity), model.kinds) if share > 0]
    logits = [sum(share * kind.rank.logit(e.vector()) for share, kind in kinds) for e in evidence]
    order = sorted(range(len(candidates)), key=lambda i: -logits[i])
    ranked = tuple(
        replace(candidates[i], score=probability(logits[i]), signals={**candidates[i].signals, "answer": logits[i]})
        for i in order[:keep]
    )
    verdicts = context.verdicts(question, tuple(c.passage_index for c in candidates))
    first = evidence[order[0]]
    margin = sum(share * (kind.answer.logit(first.vector(kind.answer.names)) - kind.threshold) for share, kind in kinds)
    if margin >= 0:
        return Judgement(ranked, True, "", verdicts)
    return Judgement(ranked, False, first.gap, verdicts)
