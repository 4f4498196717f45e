"""Pick the sentences that answer a question and decide whether the report answers it.

A question is first *read* (:class:`Reading`): its key terms with their weights (see
:mod:`qa.keyterms`), the forms that state each term in a passage (the term itself, or the
report's words for an English word, see :mod:`qa.english`) and the kind of answer it asks for.

Highlights: every sentence of a passage (long ones clause by clause) is scored by the weighted
share of key terms it states, its embedding's cosine to the question (when an encoder is there)
and whether it holds the kind of answer asked for (a quantity for 多少, a date for 哪一年, ...).

Abstention: the best passages must state the question's key terms (weighted coverage, with the
section heading, half credit for a word sharing characters), at least two of them, the asked-for
noun and an answer of the asked-for kind; a year or term the whole report never mentions, or
retrievers that disagree, count against answering.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from qa import keyterms, qtype
from qa.document import Paragraph, Sentence
from qa.english import Glossary, english_kind, is_english
from qa.qtype import QType, QuestionType
from qa.results import Highlight
from qa.library import Library, LibraryPassage
from qa.passages import passage_context
from qa.retrieve import Candidate
from qa.textnorm import Tokenizer, normalize

if TYPE_CHECKING:
    from embeddings import Encoder

MAX_HIGHLIGHTS = 2
TYPE_WEIGHT = 0.35  # a sentence holding the asked-for kind of answer
FOCUS_WEIGHT = 0.25  # ... next to the asked-for noun
DENSE_WEIGHT = 0.5  # sentence cosine, min-max scaled within the passage
SECOND_RATIO = 0.85  # a neighbour scoring this close to the best one is highlighted too
UNGLOSSED_FACTOR = 0.5  # weight of an English word with no report word for it, against a never-used term
LONG_SENTENCE = 100  # characters
_CLAUSE_END = re.compile("[；;]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LEAD_OUT = ("：", ":")
_LEAD_IN = ("即", "包括", "其中", "一是", "分别", "具体")


@dataclass(frozen=True)
class Reading:
    """What the answer checks look for in one question.

    ``text`` is the Chinese the checks match against: the question itself, or the report's
    words for an English question's words. ``forms`` gives, for each key term, the strings
    that state it in a passage (the term itself, or an English word's glosses).
    """

    text: str
    kind: QuestionType
    weights: dict[str, float]
    forms: dict[str, tuple[str, ...]]
    names: tuple[str, ...]

    def states(self, term: str, text: str) -> bool:
        """Whether normalized ``text`` states key ``term`` in one of its forms."""
        return any(form in text for form in self.forms[term])


class Answerer:
    """Highlights and the answered / not-answered decision over one library.

    Holds per-library state: term IDF, normalized passages and cached sentence vectors.
    """

    def __init__(
        self, library: Library, tokenizer: Tokenizer, encoder: Encoder | None = None, glossary: Glossary | None = None
    ) -> None:
        self.library = library
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.glossary = glossary
        self.passages = [p.normalized for p in library.passages]
        self.text = "\n".join(self.passages)
        self.idf: dict[str, float] = {}
        self.sentence_vectors: dict[int, np.ndarray] = {}
        self.passage_words: dict[int, dict[str, tuple[str, ...]]] = {}
        self.read = functools.lru_cache(maxsize=64)(self._read)

    def _read(self, question: str) -> Reading:
        """What the checks look for in ``question`` (cached: judging and highlighting share it)."""
        if self.glossary is not None and is_english(question):
            glosses = self.glossary.glosses(question)
            weights = {key: self._english_weight(key, words) for key, words in glosses.items()}
            forms = {key: (*words, key) for key, words in glosses.items()}  # CNAS, ISO9001 stand as written
            return Reading(self.glossary.chinese_text(question), english_kind(question), weights, forms, ())
        terms = question_terms(qtype.strip_question_phrases(question), self.tokenizer)
        weights = keyterms.term_weights(question, terms, self.weight)
        return Reading(question, qtype.detect(question), weights, {t: (t,) for t in weights}, tuple(_names(question)))

    def _english_weight(self, key: str, words: Sequence[str]) -> float:
        """An English key weighs as its most telling report word. Without one it weighs half as much
        as a term the report never uses (the dictionary may lack the report's word for it), times
        its specificity in English."""
        if words:
            return max(self.weight(w) * keyterms.specificity(w) for w in words)
        return UNGLOSSED_FACTOR * self.weight(key) * self.glossary.specificity(key)

    def highlight(self, question: str, passage: LibraryPassage) -> tuple[Highlight, ...]:
        """The one or two sentences of ``passage`` that answer ``question`` (offsets into its text)."""
        return highlight(question, passage, self)

    def judge(self, question: str, candidates: Sequence[Candidate], keep: int) -> Judgement:
        """Re-rank candidates by answer evidence, keep ``keep``, and decide (see :func:`judge`)."""
        return judge(question, candidates, self, keep)

    def weight(self, term: str) -> float:
        """IDF of a term over the passages (substring matches); terms the report never uses weigh most."""
        if term not in self.idf:
            df = sum(term in passage for passage in self.passages)
            self.idf[term] = math.log((len(self.passages) + 1) / (df + 0.5))
        return self.idf[term]

    def words(self, index: int) -> dict[str, tuple[str, ...]]:
        """The words of passage ``index`` (with its headings), by character (see :func:`by_character`)."""
        if index not in self.passage_words:
            self.passage_words[index] = by_character(self.tokenizer.tokenize(self.passages[index]))
        return self.passage_words[index]

    def sentence_cosines(self, question: str, passage: LibraryPassage) -> np.ndarray | None:
        """Cosine of each of ``passage``'s :func:`answer_units` to the question, or None without an encoder."""
        if self.encoder is None:
            return None
        query = self.encoder.encode_query(question)
        vectors = self.sentence_vectors.get(passage.index)
        if vectors is None:
            vectors = np.asarray(self.encoder.encode_passages([s.text for s in answer_units(passage.paragraph)]), dtype=np.float32)
            self.sentence_vectors[passage.index] = vectors
        return vectors @ query


def question_terms(question: str, tokenizer: Tokenizer) -> list[str]:
    """The question's content terms, each once, with its question words removed."""
    return list(dict.fromkeys(tokenizer.tokenize(question)))


def coverage(reading: Reading, text: str) -> float:
    """Weighted share of the question's key terms that normalized ``text`` states (0 without any)."""
    total = sum(reading.weights.values())
    if total <= 0:
        return 0.0
    return sum(weight for term, weight in reading.weights.items() if reading.states(term, text)) / total


def _focus_terms(kind: QuestionType, tokenizer: Tokenizer) -> list[str]:
    return tokenizer.tokenize(kind.focus) if kind.focus else []


def _type_score(kind: QuestionType, sentence: str, question: str, focus: list[str]) -> float:
    """Reward for holding the asked-for kind of answer, more when it sits next to the asked-for noun
    (for a quantity: within a few characters of it)."""
    if kind.kind in (QType.OTHER, QType.MANNER, QType.REASON) or not qtype.matches(kind, sentence, question):
        return 0.0
    if kind.kind is QType.QUANTITY:
        near = bool(focus) and qtype.has_quantity_near(sentence, kind.measure, focus)
    else:
        near = bool(focus) and any(t in normalize(sentence) for t in focus)
    return TYPE_WEIGHT + (FOCUS_WEIGHT if near else 0.0)


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


def sentence_scores(question: str, passage: LibraryPassage, context: Answerer) -> list[float]:
    """Score of each of ``passage``'s :func:`answer_units` as the answer to ``question``."""
    reading = context.read(question)
    focus = _focus_terms(reading.kind, context.tokenizer)
    paragraph = passage.paragraph
    topic = normalize("\n".join(passage_context(passage.document, paragraph)))  # what 该党支部 in any sentence refers to
    scores = [
        coverage(reading, f"{normalize(s.text)}\n{topic}") + _type_score(reading.kind, s.text, reading.text, focus)
        for s in answer_units(paragraph)
    ]
    cosines = context.sentence_cosines(question, passage)
    if cosines is not None and len(cosines) > 1 and np.ptp(cosines) > 1e-6:
        scaled = (cosines - cosines.min()) / np.ptp(cosines)
        scores = [s + DENSE_WEIGHT * float(c) for s, c in zip(scores, scaled)]
    return scores


def _pick(scores: Sequence[float], sentences: Sequence[Sentence]) -> list[int]:
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


def highlight(question: str, passage: LibraryPassage, context: Answerer) -> tuple[Highlight, ...]:
    """The one or two sentences of ``passage`` that answer ``question`` (offsets into its paragraph)."""
    paragraph = passage.paragraph
    if not paragraph.sentences or not context.read(question).weights:
        return ()
    units = answer_units(paragraph)
    picked = _pick(sentence_scores(question, passage, context), units)
    highlights = []
    for i in picked:
        sentence = units[i]
        start = sentence.start - paragraph.start
        highlights.append(Highlight(start, start + len(sentence.text), sentence.text))
    return tuple(highlights)


# --- abstention -------------------------------------------------------------------------------

ANSWER_THRESHOLD = 0.5
TYPE_PENALTY = 1.0  # no answer of the asked-for kind next to the asked-for noun: not this passage
FOCUS_PENALTY = 0.3  # the passage never names the asked-for noun
NAME_PENALTY = 0.4  # the passage lacks a place, person or organisation the question names
AGREEMENT_BONUS = 0.1  # BM25 and dense retrieval put the same passage first
TERMS_PENALTY = 0.3  # the passage states fewer than MIN_TERMS_STATED of the question's key terms
MIN_TERMS_STATED = 2  # one matching word is a coincidence, two make a topic
RERANK_WEIGHT = 0.3  # weight of answer evidence against the relative retrieval score
RERANK_DEPTH = 5  # candidates judged per question, whatever the number shown
MORPHEME_WEIGHT = 0.5  # share of a missing term's weight a passage word with common characters earns
_CHECKED_KINDS = (QType.QUANTITY, QType.TIME, QType.PLACE, QType.PERSON)


@dataclass(frozen=True)
class Evidence:
    """How well one passage supports an answer, and the main gap when it does not."""

    score: float
    reason: str
    features: dict[str, float]


def _names(question: str) -> list[str]:
    """Places, people and organisations the question names (jieba ``ns``/``nr``/``nt`` words)."""
    return [normalize(word) for word, flag in qtype.tagged(question) if flag in ("ns", "nr", "nt") and len(word) >= 2]


def _checked(kind: QuestionType) -> bool:
    """Kinds whose answer can be recognised: quantities, dates, places, and a person in a named role."""
    return kind.kind in _CHECKED_KINDS and (kind.kind is not QType.PERSON or bool(kind.focus))


def _near_focus(kind: QuestionType, text: str, focus: list[str]) -> bool:
    """The asked-for noun is in ``text``, or a quantity in the asked-for unit stands in for it."""
    if not focus or any(t in normalize(text) for t in focus):
        return True
    return kind.kind is QType.QUANTITY and not qtype.is_generic(kind.measure) and qtype.has_quantity(text, kind.measure)


def _type_found(reading: Reading, paragraph: Paragraph, known: str, focus: list[str], anchors: list[str]) -> bool:
    """Whether a sentence holds the asked-for kind of answer next to the asked-for noun.

    Without a noun (哪一年, 哪里) the sentence must share a question term the heading lacks.
    """
    kind = reading.kind
    if not _checked(kind):
        return True
    for sentence in paragraph.sentences:
        text = normalize(sentence.text)
        near = _near_focus(kind, sentence.text, focus) if focus else not anchors or any(reading.states(t, text) for t in anchors)
        if near and qtype.matches(kind, sentence.text, known):
            return True
    return False


def abbreviated_terms(question: str, terms: Sequence[str], passage: str) -> set[str]:
    """Terms a passage states in abbreviated form: two words adjacent in the question, both absent
    from the passage, shortened to their first characters (停止办理 -> 停办, 质量检验 -> 质检)."""
    found = set()
    for first, second in zip(terms, terms[1:]):
        both_absent = first not in passage and second not in passage
        adjacent = len(first) >= 2 and len(second) >= 2 and first + second in question
        if both_absent and adjacent and first[0] + second[0] in passage:
            found.update((first, second))
    return found


def by_character(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each character → the distinct words of two or more characters that hold it."""
    index: dict[str, set[str]] = {}
    for word in words:
        if len(word) >= 2:
            for char in set(word):
                index.setdefault(char, set()).add(word)
    return {char: tuple(sorted(found)) for char, found in index.items()}


def morpheme_credit(term: str, words: dict[str, tuple[str, ...]]) -> float:
    """Partial credit for a term the passage lacks but paraphrases with a shared character:
    the best share of characters in common with one of its words, given :func:`by_character`
    (费用 ~ 收费 0.5, 执法车 ~ 执法 0.67). Chinese terms only: Latin letters in common mean nothing."""
    if not _HAN.search(term):
        return 0.0
    letters = set(term)
    sharing = {word for char in letters for word in words.get(char, ())}
    return max((len(letters & set(w)) / max(len(term), len(w)) for w in sharing), default=0.0)


def assess(reading: Reading, candidate: Candidate, context: Answerer) -> Evidence:
    """Score one candidate as the answer from general evidence: key-term coverage, kind, focus."""
    passage = context.passages[candidate.passage_index]
    paragraph = context.library.passages[candidate.passage_index].paragraph
    kind, weights = reading.kind, reading.weights
    focus = _focus_terms(kind, context.tokenizer)
    total = sum(weights.values()) or 1.0
    abbreviated = abbreviated_terms(normalize(reading.text), list(weights), passage)
    missing = sorted((t for t in weights if not reading.states(t, passage) and t not in abbreviated),
                     key=weights.get, reverse=True)
    words = context.words(candidate.passage_index)
    credit = {t: MORPHEME_WEIGHT * max(morpheme_credit(form, words) for form in reading.forms[t]) for t in missing}
    missing_names = [name for name in reading.names if name not in passage]
    heading = context.library.passages[candidate.passage_index].section.heading
    anchors = [t for t in weights if not reading.states(t, normalize(heading))]
    features = {
        "coverage": 1.0 - sum(weights[t] * (1 - credit[t]) for t in missing) / total,
        "type_ok": float(_type_found(reading, paragraph, reading.text + heading, focus, anchors)),
        "focus_ok": float(not _checked(kind) or _near_focus(kind, passage, focus)),
        "names_ok": float(not missing_names),
        "terms_ok": float(len(weights) - len(missing) >= min(MIN_TERMS_STATED, len(weights))),
    }
    score = (
        features["coverage"]
        - TYPE_PENALTY * (1 - features["type_ok"])
        - FOCUS_PENALTY * (1 - features["focus_ok"])
        - NAME_PENALTY * (1 - features["names_ok"])
        - TERMS_PENALTY * (1 - features["terms_ok"])
    )
    if missing_names:
        reason = f"最相关的段落没有提到：{missing_names[0]}"
    elif missing:
        absent = not reading.states(missing[0], context.text)
        reason = f"{'报告中' if absent else '最相关的段落'}没有提到：{missing[0]}"
    elif not features["type_ok"]:
        reason = f"最相关的段落没有给出所问的{_KIND_NAMES[kind.kind]}"
    else:
        reason = "最相关的段落没有给出答案"
    return Evidence(score, reason, features)


_KIND_NAMES = {QType.QUANTITY: "数量", QType.TIME: "时间", QType.PLACE: "地点", QType.PERSON: "人名"}


def _agreement(candidates: Sequence[Candidate]) -> bool:
    """Whether BM25 and dense retrieval rank the same candidate first (False without dense)."""
    if not candidates or "dense" not in candidates[0].signals:
        return False
    by_bm25 = max(candidates, key=lambda c: c.signals.get("bm25", 0.0))
    by_dense = max(candidates, key=lambda c: c.signals["dense"])
    return by_bm25.passage_index == by_dense.passage_index


@dataclass(frozen=True)
class Judgement:
    """Candidates re-ranked by answer evidence, and whether the kept ones answer the question."""

    candidates: tuple[Candidate, ...]
    answered: bool
    reason: str


def judge(question: str, candidates: Sequence[Candidate], context: Answerer, keep: int) -> Judgement:
    """Re-rank ``candidates`` by retrieval score plus answer evidence, keep the best ``keep``, decide.

    The new score is the retrieval score relative to the best candidate plus
    ``RERANK_WEIGHT`` times the evidence score; both show in the candidate's signals
    (``answer`` is the evidence). The question counts as answered when a kept candidate's
    evidence reaches ``ANSWER_THRESHOLD``; otherwise the reason names the main gap.
    """
    if not candidates:
        return Judgement((), False, "no passage to answer from")
    reading = context.read(question)
    if not reading.weights:
        return Judgement(tuple(candidates[:keep]), False, "问题里没有可在报告中查找的词")
    bonus = AGREEMENT_BONUS if _agreement(candidates) else 0.0
    evidence = [assess(reading, candidate, context) for candidate in candidates]
    support = [e.score + (bonus if rank == 0 else 0.0) for rank, e in enumerate(evidence)]
    best_score = max(c.score for c in candidates)
    relative = [c.score / best_score if best_score > 0 else 0.0 for c in candidates]
    final = [r + RERANK_WEIGHT * s for r, s in zip(relative, support)]
    order = sorted(range(len(candidates)), key=lambda i: -final[i])[:keep]
    ranked = tuple(
        replace(candidates[i], score=final[i], signals={**candidates[i].signals, "answer": support[i]}) for i in order
    )
    missing_years = [y for y in qtype.years(question) if y not in context.text]
    if missing_years:
        return Judgement(ranked, False, f"报告中没有提到：{missing_years[0]}年")
    if max(support[i] for i in order) >= ANSWER_THRESHOLD:
        return Judgement(ranked, True, "")
    return Judgement(ranked, False, evidence[order[0]].reason)
