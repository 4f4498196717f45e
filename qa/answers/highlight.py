"""The sentences of a passage that answer a question.

Every sentence (long ones clause by clause) is scored by the weighted share of key terms it
states, its embedding's cosine to the question (when an encoder is there) and whether it holds
the kind of answer asked for: a quantity beside the asked-for noun for 多少, a date for 哪一年,
the reason (由于…, 为了…) for 为什么, the means (通过…, 采取…) for 怎样, an enumeration
(一是…二是…, A、B、C) for 哪些.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qa.answers.reading import Reading
from qa.documents.document import Paragraph, Sentence
from qa.documents.library import LibraryPassage
from qa.documents.passages import passage_context
from qa.language import qtype
from qa.language.english import asks_list_english
from qa.language.qtype import QType
from qa.language.textnorm import normalize
from qa.results import Highlight

if TYPE_CHECKING:
    from qa.answers.reader.runtime import Verdict

MAX_HIGHLIGHTS = 2
TYPE_WEIGHT = 0.35  # a sentence holding the asked-for kind of answer
FOCUS_WEIGHT = 0.25  # ... next to the asked-for noun
DENSE_WEIGHT = 0.5  # sentence cosine, min-max scaled within the passage
SECOND_RATIO = 0.85  # a neighbour scoring this close to the best one is highlighted too
LONG_SENTENCE = 100  # characters
_CLAUSE_END = re.compile("[；;]")
_LEAD_OUT = ("：", ":")
_LEAD_IN = ("即", "包括", "其中", "一是", "分别", "具体")


class HighlightContext(Protocol):
    """What highlighting reads of a library's answer state
    (:class:`~qa.answers.answerer.Answerer` holds it)."""

    def read(self, question: str) -> Reading: ...

    def sentence_cosines(self, question: str, passage: LibraryPassage) -> np.ndarray | None: ...


@functools.lru_cache(maxsize=1024)
def answer_units(paragraph: Paragraph) -> tuple[Sentence, ...]:
    """The pieces of ``paragraph`` a highlight is made of: its sentences, with sentences longer
    than ``LONG_SENTENCE`` cut after each ；into clauses (a 300-character list of feats is
    highlighted one feat at a time)."""
    units = []
    for sentence in paragraph.sentences:
        cuts = [m.end() for m in _CLAUSE_END.finditer(sentence.text)] if len(sentence.text) > LONG_SENTENCE else []
        for start, end in zip([0, *cuts], [*cuts, len(sentence.text)]):
            if start < end:
                units.append(Sentence(sentence.start + start, sentence.start + end, sentence.text[start:end]))
    return tuple(units)


@functools.lru_cache(maxsize=1024)
def normalized_sentences(paragraph: Paragraph) -> tuple[str, ...]:
    """``paragraph``'s sentences, normalized for matching (cached: every question reads them)."""
    return tuple(normalize(s.text) for s in paragraph.sentences)


@functools.lru_cache(maxsize=1024)
def normalized_units(paragraph: Paragraph) -> tuple[str, ...]:
    """``paragraph``'s :func:`answer_units`, normalized for matching (cached)."""
    return tuple(normalize(u.text) for u in answer_units(paragraph))


def passage_topic(passage: LibraryPassage) -> str:
    """``passage``'s document title and headings, normalized: what its 该党支部 refers to."""
    return normalize("\n".join(passage_context(passage.document, passage.paragraph)))


def read_ahead(passage: LibraryPassage) -> None:
    """Read ``passage`` as the checks and highlights read it: its topic, its sentences and answer
    units, and their clauses (see :func:`qa.language.qtype.read_ahead`), into their caches."""
    passage_topic(passage)
    paragraph = passage.paragraph
    normalized_units(paragraph)  # matched as they are; the checks read the units as written
    for text in (*normalized_sentences(paragraph), *(unit.text for unit in answer_units(paragraph))):
        qtype.read_ahead(text)


def coverage(reading: Reading, text: str, stated: Collection[str]) -> float:
    """Weighted share of the question's key terms that normalized ``text`` states, counting those
    of ``stated`` (the terms its context states) as stated too; 0 without any key term."""
    total = sum(reading.weights.values())
    if total <= 0:
        return 0.0
    return sum(weight for term, weight in reading.weights.items() if term in stated or reading.states(term, text)) / total


def type_score(reading: Reading, sentence: str, lists: bool) -> float:
    """Reward for holding the asked-for kind of answer: more for a quantity beside the asked-for
    noun, or any answer kind beside it; for why / how / which-ones questions, for the reason, the
    means or the enumeration."""
    kind = reading.kind
    if lists:
        return TYPE_WEIGHT if qtype.is_enumeration(sentence) else 0.0
    if kind.kind is QType.REASON:
        return TYPE_WEIGHT if qtype.is_reason(sentence) else 0.0
    if kind.kind is QType.MANNER:
        return TYPE_WEIGHT if qtype.is_means(sentence) else 0.0
    if kind.kind is QType.OTHER or not qtype.matches(kind, sentence, reading.text):
        return 0.0
    focus = reading.focus
    if kind.kind is QType.QUANTITY:
        near = bool(focus) and qtype.has_quantity_near(sentence, kind.measure, focus)
    else:
        near = any(word in normalize(sentence) for word in focus)
    return TYPE_WEIGHT + (FOCUS_WEIGHT if near else 0.0)


def sentence_scores(question: str, passage: LibraryPassage, context: HighlightContext) -> list[float]:
    """Score of each of ``passage``'s :func:`answer_units` as the answer to ``question``."""
    reading = context.read(question)
    lists = qtype.asks_list(question) or asks_list_english(question)
    topic = passage_topic(passage)
    in_topic = frozenset(term for term in reading.weights if reading.states(term, topic))
    units = zip(answer_units(passage.paragraph), normalized_units(passage.paragraph))
    scores = [coverage(reading, normalized, in_topic) + type_score(reading, unit.text, lists) for unit, normalized in units]
    cosines = context.sentence_cosines(question, passage)
    if cosines is not None and len(cosines) > 1 and np.ptp(cosines) > 1e-6:
        scaled = (cosines - cosines.min()) / np.ptp(cosines)
        scores = [s + DENSE_WEIGHT * float(c) for s, c in zip(scores, scaled)]
    return scores


def pick(scores: Sequence[float], sentences: Sequence[Sentence]) -> list[int]:
    """The best sentence, plus an adjacent one when it scores close or the best one leads into it."""
    best = max(range(len(scores)), key=lambda i: scores[i])
    picked = [best]
    after = best + 1
    if after < len(sentences) and (
        sentences[best].text.endswith(_LEAD_OUT) or sentences[after].text.startswith(_LEAD_IN)
    ):
        return [best, after]
    neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(sentences)]
    if neighbours and scores[best] > 0:
        second = max(neighbours, key=lambda i: scores[i])
        if scores[second] >= SECOND_RATIO * scores[best]:
            picked.append(second)
    return sorted(picked)[:MAX_HIGHLIGHTS]


def highlight(question: str, passage: LibraryPassage, context: HighlightContext, verdict: Verdict | None = None
              ) -> tuple[Highlight, ...]:
    """The one or two sentences of ``passage`` that answer ``question`` (offsets into its paragraph):
    those holding the reader's answer span when it read the passage, else the best by the rules."""
    paragraph = passage.paragraph
    if not paragraph.sentences or not context.read(question).weights:
        return ()
    units = answer_units(paragraph)
    if verdict is not None and verdict.span is not None:
        first, last = (paragraph.start + offset for offset in verdict.span)
        chosen = [i for i, unit in enumerate(units) if unit.start < last and first < unit.end][:MAX_HIGHLIGHTS]
    else:
        chosen = pick(sentence_scores(question, passage, context), units)
    highlights = []
    for i in chosen:
        sentence = units[i]
        start = sentence.start - paragraph.start
        highlights.append(Highlight(start, start + len(sentence.text), sentence.text))
    return tuple(highlights)
