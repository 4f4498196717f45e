"""The sentences of a passage that answer a question.

Every sentence (long ones clause by clause) is scored by a fitted logistic model (the sentence
model in ``decision.json``, fitted by :mod:`qa.calibrate`) over: the weighted share of key terms
it states, whether it holds the kind of answer asked for (a quantity beside the asked-for noun for
多少, a date for 哪一年, the reason 由于…/为了… for 为什么, the means 通过…/采取… for 怎样, an
enumeration 一是…二是… or A、B、C for 哪些), its embedding's cosine to the question (with an
encoder) and the reader's best answer span inside it (when the reader read the passage).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qa.answers.linear import Linear
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
UNIT_FEATURES = (  # of a sentence, each minus the passage's best sentence's
    "coverage",  # weighted share of the key terms it states (its headings', and a lead-in's, count as stated)
    "kind",  # it holds the asked-for kind of answer
    "focus",  # ... beside the asked-for noun
    "cosine",  # its cosine to the question
    "reader",  # how far the reader's best span inside it leads no span
)
READER_FLOOR = -12.0  # the reader's lead in a sentence it did not read, or the lowest it reports
LONG_SENTENCE = 100  # characters
_CLAUSE_END = re.compile("[；;]")
_LEAD_OUT = ("：", ":")
_LEAD_IN = ("即", "包括", "其中", "一是", "分别", "具体")


class HighlightContext(Protocol):
    """What highlighting reads of a library's answer state
    (:class:`~qa.answers.answerer.Answerer` holds it)."""

    def read(self, question: str) -> Reading: ...

    def sentence_cosines(self, question: str, passage: LibraryPassage) -> np.ndarray | None: ...

    @property
    def model(self) -> SentenceModel: ...


class SentenceModel(Protocol):
    """What highlighting reads of the fitted models: the sentence model over :data:`UNIT_FEATURES`."""

    highlight: Linear


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


def stated_terms(reading: Reading, text: str) -> frozenset[str]:
    """The question's key terms that normalized ``text`` states."""
    return frozenset(term for term in reading.weights if reading.states(term, text))


def leads_on(previous: Sentence, sentence: Sentence) -> bool:
    """Whether ``sentence`` goes on from ``previous``: ``previous`` ends in a colon, or ``sentence``
    opens with 即, 包括, 其中… (what it lists belongs to what ``previous`` names)."""
    return previous.text.endswith(_LEAD_OUT) or sentence.text.startswith(_LEAD_IN)


def answer_kind(reading: Reading, sentence: str, lists: bool) -> tuple[bool, bool]:
    """Whether a sentence holds the asked-for kind of answer (for why / how / which-ones questions:
    the reason, the means, the enumeration), and whether it holds it beside the asked-for noun."""
    kind = reading.kind
    if lists:
        return qtype.is_enumeration(sentence), False
    if kind.kind is QType.REASON:
        return qtype.is_reason(sentence), False
    if kind.kind is QType.MANNER:
        return qtype.is_means(sentence), False
    if kind.kind is QType.OTHER or not qtype.matches(kind, sentence, reading.text):
        return False, False
    focus = reading.focus
    if kind.kind is QType.QUANTITY:
        return True, bool(focus) and qtype.has_quantity_near(sentence, kind.measure, focus)
    return True, any(word in normalize(sentence) for word in focus)


def unit_features(question: str, passage: LibraryPassage, context: HighlightContext,
                  verdict: Verdict | None) -> np.ndarray:
    """:data:`UNIT_FEATURES` of each of ``passage``'s :func:`answer_units` (units × features), each
    relative to the passage's best unit; cosine and reader are 0 without an encoder or a verdict.
    A unit's coverage counts as stated the terms of its headings, and those of the unit before it
    when it goes on from it (see :func:`leads_on`)."""
    reading = context.read(question)
    lists = qtype.asks_list(question) or asks_list_english(question)
    in_topic = stated_terms(reading, passage_topic(passage))
    paragraph = passage.paragraph
    units = answer_units(paragraph)
    normalized = normalized_units(paragraph)
    rows = np.zeros((len(units), len(UNIT_FEATURES)))
    stated = [in_topic] + [in_topic | stated_terms(reading, normalized[i - 1]) if leads_on(units[i - 1], units[i])
                           else in_topic for i in range(1, len(units))]
    rows[:, 0] = [coverage(reading, text, terms) for text, terms in zip(normalized, stated)]
    rows[:, 1:3] = [answer_kind(reading, unit.text, lists) for unit in units]
    cosines = context.sentence_cosines(question, passage)
    if cosines is not None:
        rows[:, 3] = cosines
    if verdict is not None:
        rows[:, 4] = [max(verdict.lead_within(u.start - paragraph.start, u.end - paragraph.start), READER_FLOOR)
                      for u in units]
    return rows - rows.max(axis=0)


def pick(logits: np.ndarray, sentences: Sequence[Sentence]) -> list[int]:
    """The likeliest sentence, plus the next one when it leads into it, or an adjacent one the
    model also takes for an answer."""
    best = int(np.argmax(logits))
    picked = [best]
    after = best + 1
    if after < len(sentences) and leads_on(sentences[best], sentences[after]):
        return [best, after]
    neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(sentences)]
    if neighbours:
        second = max(neighbours, key=lambda i: logits[i])
        if logits[second] >= 0.0:
            picked.append(second)
    return sorted(picked)[:MAX_HIGHLIGHTS]


def highlight(question: str, passage: LibraryPassage, context: HighlightContext, verdict: Verdict | None = None
              ) -> tuple[Highlight, ...]:
    """The one or two sentences of ``passage`` that answer ``question`` (offsets into its
    paragraph), by the fitted sentence model over :func:`unit_features` (with the reader's
    ``verdict`` on the passage when it read it)."""
    paragraph = passage.paragraph
    if not paragraph.sentences or not context.read(question).weights:
        return ()
    units = answer_units(paragraph)
    logits = context.model.highlight.logits(unit_features(question, passage, context, verdict))
    highlights = []
    for i in pick(logits, units):
        sentence = units[i]
        start = sentence.start - paragraph.start
        highlights.append(Highlight(start, start + len(sentence.text), sentence.text))
    return tuple(highlights)
