"""Near misses for calibrating the answer decision: the shipped report with the sentences that
answer some gold questions taken out, and those questions, now unanswerable.

A user's unanswerable question is most often about something the report does mention, asking
for a detail it leaves out. Hand-written sets hold few such questions; these are made from every
answerable one: the same subject, the same words, the passages around it, only the answer gone.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from qa.documents.document import Document, Paragraph, Sentence
from qa.documents.readers.text import parse_report
from qa.evaluate import GoldQuestion, contains_evidence

QUESTIONS_PER_VARIANT = 10  # questions whose answers one copy of the report loses together
SEED = 0


def answering_spans(paragraph: Paragraph, evidence: Sequence[str]) -> list[tuple[int, int]]:
    """Document offsets of the fewest consecutive sentences of ``paragraph`` to take out so that
    no evidence string is left in it (each shortest run holding one, left to right)."""
    sentences, spans = list(paragraph.sentences), []
    while contains_evidence("".join(s.text for s in sentences), evidence):
        first, last = _shortest_run(sentences, evidence)
        spans.append((sentences[first].start, sentences[last].end))
        del sentences[first:last + 1]
    return spans


def _shortest_run(sentences: list[Sentence], evidence: Sequence[str]) -> tuple[int, int]:
    """The first and last index of the shortest run of ``sentences`` holding an evidence string."""
    runs = ((first, last) for first in range(len(sentences)) for last in range(first, len(sentences))
            if contains_evidence("".join(s.text for s in sentences[first:last + 1]), evidence))
    return min(runs, key=lambda run: (run[1] - run[0], run[0]))


def without_sentences(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with the character ``spans`` cut out."""
    kept, position = [], 0
    for start, end in sorted(spans):
        kept.append(text[position:max(start, position)])
        position = max(position, end)
    return "".join(kept) + text[position:]


def near_miss_reports(document: Document, questions: Sequence[GoldQuestion], folder: Path
                      ) -> list[tuple[Path, list[GoldQuestion]]]:
    """Copies of ``document`` under ``folder`` (one folder each, written once), each without the
    answering sentences of ``QUESTIONS_PER_VARIANT`` of the answerable ``questions`` (in a seeded
    order), and those questions as unanswerable. A question is left out when its evidence would
    stay in the text (a heading, or words the sentences split differently) or when taking its
    sentences out would change the sections recovered (a heading glued to a sentence taken out)."""
    answerable = [q for q in questions if q.answerable and q.evidence]
    random.Random(SEED).shuffle(answerable)
    headings = [section.heading for section in document.sections]
    kept: list[tuple[list[tuple[int, int]], GoldQuestion]] = []
    for question in answerable:
        spans = [span for p in document.paragraphs for span in answering_spans(p, question.evidence)]
        text = without_sentences(document.text, spans)
        if (spans and not contains_evidence(text, question.evidence)
                and [section.heading for section in parse_report(text).sections] == headings):
            kept.append((spans, replace(question, evidence=(), answerable=False, kind="near-miss")))
    variants = []
    for number, begin in enumerate(range(0, len(kept), QUESTIONS_PER_VARIANT)):
        chunk = kept[begin:begin + QUESTIONS_PER_VARIANT]
        path = folder / f"variant{number:03d}" / Path(document.source).with_suffix(".txt").name
        text = without_sentences(document.text, [span for spans, _ in chunk for span in spans])
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        variants.append((path.parent, [question for _, question in chunk]))
    return variants
