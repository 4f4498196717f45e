"""Gold-file metrics: passage hits, MRR, sentence@1 and abstention figures."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.results import Answer, Passage

HIT_DEPTHS = (1, 3, 5)


@dataclass(frozen=True)
class GoldQuestion:
    """One line of a gold file."""

    question: str
    evidence: tuple[str, ...]
    answerable: bool
    kind: str = ""
    id: str = ""
    source: str | None = None


def read_gold(path: str | Path) -> list[GoldQuestion]:
    """Read a gold ``.jsonl`` file (fields ``question``, ``evidence``, ``answerable``, ``kind``,
    optionally ``source``: the document the answer must come from)."""
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                GoldQuestion(
                    question=row["question"],
                    evidence=tuple(row.get("evidence") or ()),
                    answerable=bool(row.get("answerable", True)),
                    kind=row.get("kind", ""),
                    id=str(row.get("id", number)),
                    source=row.get("source"),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a gold question ({error})") from None
    return questions


def _squash(text: str) -> str:
    return "".join(text.split())


def contains_evidence(text: str, evidence: Iterable[str]) -> bool:
    """Whether any evidence string occurs in ``text`` (whitespace ignored)."""
    squashed = _squash(text)
    return any(_squash(e) and _squash(e) in squashed for e in evidence)


def _from_source(passage: Passage, source: str | None) -> bool:
    return source is None or passage.citation.source == source


def evidence_rank(answer: Answer, evidence: Iterable[str], source: str | None = None) -> int | None:
    """Rank (from 1) of the first passage holding an evidence string (from document ``source``
    when given), or None."""
    evidence = tuple(evidence)
    for passage in answer.passages:
        if _from_source(passage, source) and contains_evidence(passage.text, evidence):
            return passage.rank
    return None


def sentence_hit(answer: Answer, evidence: Iterable[str], source: str | None = None) -> bool:
    """Whether an evidence string lies inside a highlight of the top passage (from ``source``)."""
    if not answer.passages or not _from_source(answer.passages[0], source):
        return False
    return any(contains_evidence(h.text, evidence) for h in answer.passages[0].highlights)


def answer_exact(answer: Answer, evidence: Iterable[str]) -> bool:
    """Whether the top passage's short answer span equals an evidence string (whitespace ignored)."""
    if not answer.passages or answer.passages[0].answer is None:
        return False
    span = _squash(answer.passages[0].answer.text)
    return any(span == _squash(e) for e in evidence)


def _where(passage: Passage) -> str:
    return f"{passage.citation.source} {passage.citation.label}"


@dataclass
class Report:
    """Metrics over a gold set, with the questions that failed each check."""

    metrics: dict[str, float | None]
    failures: list[dict[str, Any]] = field(default_factory=list)


def evaluate(questions: list[GoldQuestion], ask: Callable[[str], Answer]) -> Report:
    """Run every question through ``ask`` (which should return at least 5 passages)."""
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    hits = {k: 0 for k in HIT_DEPTHS}
    reciprocal_ranks = 0.0
    sentence_hits = abstained = false_abstentions = exact_answers = 0
    failures = []
    for gold in questions:
        answer = ask(gold.question)
        if not gold.answerable:
            abstained += not answer.answered
            if answer.answered:
                failures.append({"id": gold.id, "question": gold.question, "failure": "answered an unanswerable question"})
            continue
        rank = evidence_rank(answer, gold.evidence, gold.source)
        for k in HIT_DEPTHS:
            hits[k] += rank is not None and rank <= k
        reciprocal_ranks += 1.0 / rank if rank else 0.0
        sentence_hits += sentence_hit(answer, gold.evidence, gold.source)
        exact_answers += answer_exact(answer, gold.evidence)
        false_abstentions += not answer.answered
        problems = []
        if rank != 1:
            problems.append(f"evidence at rank {rank}" if rank else "evidence not retrieved")
        elif not sentence_hit(answer, gold.evidence, gold.source):
            problems.append("evidence not highlighted")
        if not answer.answered:
            problems.append("abstained")
        if problems:
            failures.append({"id": gold.id, "question": gold.question, "failure": "; ".join(problems),
                             "evidence": list(gold.evidence),
                             "top": _where(answer.passages[0]) if answer.passages else None})
    n = max(len(answerable), 1)
    metrics = {f"hit@{k}": hits[k] / n for k in HIT_DEPTHS}
    metrics.update(
        {
            "mrr": reciprocal_ranks / n,
            "sentence@1": sentence_hits / n,
            "answer_exact": exact_answers / n,
            "abstention_recall": abstained / len(unanswerable) if unanswerable else None,
            "false_abstention": false_abstentions / n,
            "answerable": len(answerable),
            "unanswerable": len(unanswerable),
        }
    )
    return Report(metrics=metrics, failures=failures)
