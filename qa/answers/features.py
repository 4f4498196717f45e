"""Evidence features of a candidate passage: how much of the question it states, whether it
holds the asked-for answer, and how the retrievers saw it.

Every feature is a number the fitted models (:mod:`qa.answers.decide`) weigh; none decides
alone. :data:`FEATURES` lists them in the order of the shipped weights: what the passage states
(:data:`EVIDENCE_FEATURES`, read by the ranking model and, those its setting weighs, by the answer
model), then how retrieval saw it (read by the ranking model only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qa.answers.highlight import READER_FLOOR, normalized_sentences, stated_terms
from qa.answers.reading import Reading
from qa.language import qtype
from qa.language.english import is_english
from qa.language.qtype import QType, QuestionType
from qa.language.textnorm import normalize
from qa.retrieval.retriever import Candidate

if TYPE_CHECKING:
    from qa.answers.reader.runtime import Verdict
    from qa.documents.library import Library, LibraryPassage

EVIDENCE_FEATURES = (
    "exact",  # weighted share of key terms the passage (with its headings) states
    "two_terms",  # the passage states two key terms (or all, when fewer): one word is a coincidence
    "names",  # it names every place, person and organisation the question names
    "year_absent",  # the question names a year the library never mentions
    "checked",  # the asked-for kind can be recognised (a quantity, a date, a place, a named role's holder, a reason, a means)
    "attribute",  # it states the asked-for attribute of the asked-for noun (员工88人, 局长…赵金生)
    "english",  # the question is in English
    "unglossed",  # share of an English question's key-term weight the library has no word for
    "cosine",  # cosine of its sentence closest to the question
    "reader_lead",  # how far the reader's best span leads no span (the floor when unread)
    "reader_sure",  # the reader's answer log-odds above even (0 below): how sure it is that the passage answers
    "reader_english",  # the reader's answer log-odds for an English question (0 for a Chinese one, or unread)
    "lead_english",  # its span lead for one: the reader reads the report's words for it, a keyword search
)
RETRIEVAL_FEATURES = (
    "bm25",  # BM25 score relative to the best candidate's
    "cosine_gap",  # the cosine minus the best one among the candidates
)
FEATURES = EVIDENCE_FEATURES + RETRIEVAL_FEATURES
_CHECKED_KINDS = (QType.QUANTITY, QType.TIME, QType.PLACE, QType.PERSON, QType.REASON, QType.MANNER)
_KIND_NAMES = {QType.QUANTITY: "数量", QType.TIME: "时间", QType.PLACE: "地点", QType.PERSON: "人名",
               QType.REASON: "原因", QType.MANNER: "做法"}
MIN_TERMS_STATED = 2
READER_CEILING = 12.0  # the reader's log-odds and lead are clipped to [READER_FLOOR, this]
NAME_GAP = 6  # characters a name's long form inserts (北京局 → 北京检验检疫局)


@dataclass(frozen=True)
class Evidence:
    """The features of one candidate (see :data:`FEATURES`) and what it lacks, in words."""

    features: dict[str, float]
    gap: str

    def vector(self, names: Sequence[str] = FEATURES) -> np.ndarray:
        """The values of the features ``names``, in that order."""
        return np.array([self.features[name] for name in names], dtype=np.float64)


class EvidenceContext(Protocol):
    """What the evidence features read of a library's answer state
    (:class:`~qa.answers.answerer.Answerer` holds it)."""

    library: Library
    passages: list[str]  # each passage's text normalized, by index
    text: str  # all of them, one per line

    def words(self, index: int) -> dict[str, tuple[str, ...]]: ...

    def sentence_cosines(self, question: str, passage: LibraryPassage) -> np.ndarray | None: ...

    def verdicts(self, question: str, indices: tuple[int, ...]) -> dict[int, Verdict]: ...


# --- partial statements of a term --------------------------------------------------------------


def abbreviated_terms(question: str, terms: Sequence[str], passage: str) -> set[str]:
    """Terms a passage states in abbreviated form: two words adjacent in the question, both absent
    from the passage, shortened to their first characters (停止办理 -> 停办, 质量检验 -> 质检)."""
    found = set()
    for first, second in zip(terms, terms[1:]):
        if (len(first) >= 2 and len(second) >= 2 and first not in passage and second not in passage
                and first[0] + second[0] in passage and first + second in question):
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


# --- the asked-for answer ----------------------------------------------------------------------


def checked(kind: QuestionType) -> bool:
    """Kinds whose answer can be recognised: quantities, dates, places, a person in a named role,
    a reason (由于…, 为了…) and a means (通过…, 采取…)."""
    return kind.kind in _CHECKED_KINDS and (kind.kind is not QType.PERSON or bool(kind.focus))


def _anchored(reading: Reading, sentence: str, anchors: Sequence[str]) -> bool:
    """Whether a sentence states a key term that the headings do not (what ties it to the question)."""
    return not anchors or any(reading.states(term, sentence) for term in anchors)


def kind_found(reading: Reading, sentences: Sequence[str], known: str, anchors: Sequence[str]) -> bool:
    """Whether a sentence holds the asked-for kind of answer beside the asked-for noun (or, without
    one, beside a key term the headings lack)."""
    kind = reading.kind
    for sentence in sentences:
        near = any(word in sentence for word in reading.focus) if reading.focus else _anchored(reading, sentence, anchors)
        if near and qtype.matches(kind, sentence, known):
            return True
    return False


def attribute_found(reading: Reading, sentences: Sequence[str], known: str, anchors: Sequence[str],
                    events: Sequence[str], library: str) -> bool:
    """Whether a sentence states what the question asks of its subject: a count of the asked-for
    noun (not of another noun, nor a share), the name of the asked-for role, the date of the
    asked-for event (any of ``events``, when the library has one of them); otherwise an answer of
    the kind (see :func:`kind_found`)."""
    kind = reading.kind
    if kind.kind is QType.QUANTITY and reading.focus:
        unit_alone = not qtype.is_generic(kind.measure) and not qtype.is_people(kind.measure)
        return any(
            qtype.counts(s, reading.focus, kind.measure)
            or (unit_alone and qtype.has_quantity(s, kind.measure) and _anchored(reading, s, anchors))
            for s in sentences
        )
    if kind.kind is QType.PERSON and reading.focus:
        return any(qtype.names_role(s, reading.focus, known) for s in sentences)
    if kind.kind is QType.TIME and any(word in library for word in events):
        return any(qtype.has_date(s) and any(word in s for word in events) for s in sentences)
    return kind_found(reading, sentences, known, anchors)


def missing_attribute(reading: Reading) -> str:
    """The asked-for attribute in words, for a reason (党员人数, 局长的姓名, 成立的时间)."""
    kind, subject = reading.kind, reading.subject
    if kind.kind is QType.QUANTITY and subject:
        return subject + ("人数" if qtype.is_people(kind.measure) else "数量")
    if kind.kind is QType.PERSON and subject:
        return f"{subject}的姓名"
    if kind.kind is QType.TIME and reading.events:
        return f"{reading.events[0]}的时间"
    return f"所问的{_KIND_NAMES.get(kind.kind, '答案')}"


# --- all features of the candidates ------------------------------------------------------------


def assess(question: str, reading: Reading, candidates: Sequence[Candidate], context: EvidenceContext) -> list[Evidence]:
    """The :class:`Evidence` of every candidate (retrieval features are relative to the others)."""
    in_library = stated_terms(reading, context.text)
    shared = {
        "year_absent": float(any(year not in context.text for year in qtype.years(question))),
        "english": float(is_english(question)),
        "unglossed": reading.unglossed,
    }
    evidence = [_passage_evidence(question, reading, c, context, in_library) for c in candidates]
    verdicts = context.verdicts(question, tuple(c.passage_index for c in candidates))
    read = [_reader_features(verdicts.get(c.passage_index), bool(shared["english"])) for c in candidates]
    best_cosine = max(e.features["cosine"] for e in evidence)
    bm25 = [c.signals.get("bm25", 0.0) for c in candidates]
    result = []
    for i, item in enumerate(evidence):
        features = {
            **item.features,
            **shared,
            "bm25": bm25[i] / max(bm25) if max(bm25) > 0 else 0.0,
            "cosine_gap": item.features["cosine"] - best_cosine,
            **read[i],
        }
        result.append(Evidence(features, item.gap))
    return result


def _reader_features(verdict: Verdict | None, english: bool) -> dict[str, float]:
    """The reader's span lead for a passage, clipped (the floor when unread), its answer log-odds above
    even, and both again for an English question (0 when Chinese or unread)."""
    read = verdict is not None
    logit = float(np.clip(verdict.logit, READER_FLOOR, READER_CEILING)) if read else READER_FLOOR
    lead = float(np.clip(verdict.lead, READER_FLOOR, READER_CEILING)) if read else READER_FLOOR
    apart = read and english
    return {"reader_lead": lead, "reader_sure": max(logit, 0.0),
            "reader_english": logit if apart else 0.0, "lead_english": lead if apart else 0.0}


def _passage_evidence(question: str, reading: Reading, candidate: Candidate, context: EvidenceContext,
                      in_library: frozenset[str]) -> Evidence:
    """The features that depend on one passage alone, and its gap (``in_library``: the key terms
    the library states)."""
    index = candidate.passage_index
    passage = context.passages[index]
    item = context.library.passages[index]
    weights = reading.weights
    total = sum(weights.values()) or 1.0
    abbreviated = abbreviated_terms(normalize(reading.text), list(weights), passage)
    missing = sorted((t for t in weights if not reading.states(t, passage) and t not in abbreviated),
                     key=weights.get, reverse=True)
    cosines = context.sentence_cosines(question, item)
    words = context.words(index)
    by_synonym = {t: max(reading.synonyms_in(t, passage).values(), default=0.0) for t in missing}
    heading = item.section.heading
    normalized_heading = normalize(heading)
    anchors = [t for t in weights if not reading.states(t, normalized_heading)]
    known = reading.text + heading
    sentences = normalized_sentences(item.paragraph)
    is_checked = checked(reading.kind)
    events = [form for event in reading.events if event in anchors for form in _event_forms(reading, event, words)]
    attribute = not is_checked or attribute_found(reading, sentences, known, anchors, events, context.text)
    missing_names = [name for name in reading.names if not names(name, passage)]
    unstated = [t for t in missing if by_synonym[t] == 0.0]
    features = {
        "exact": 1.0 - sum(weights[t] for t in missing) / total,
        "two_terms": float(len(weights) - len(missing) >= min(MIN_TERMS_STATED, len(weights))),
        "names": float(not missing_names),
        "checked": float(is_checked),
        "attribute": float(attribute),
        "cosine": float(cosines.max()) if cosines is not None and len(cosines) else 0.0,
    }
    years = [t for t in unstated if qtype.years(t) == [t] and t not in in_library]
    if years:  # the whole library lacks it: the plainest reason
        gap = f"报告中没有提到：{years[0]}年"
    elif missing_names:
        where = "最相关的段落" if names(missing_names[0], context.text) else "报告中"
        gap = f"{where}没有提到：{missing_names[0]}"
    elif not attribute:
        gap = f"最相关的段落没有给出：{missing_attribute(reading)}"
    elif unstated:
        where = "最相关的段落" if unstated[0] in in_library else "报告中"
        gap = f"{where}没有提到：{unstated[0]}"
    else:
        gap = "最相关的段落没有给出答案"
    return Evidence(features, gap)


def _event_forms(reading: Reading, event: str, words: dict[str, tuple[str, ...]]) -> list[str]:
    """The words that may state an event in a passage: the verb, its synonyms, and the passage's
    words sharing one of its characters (揭牌 ~ 挂牌)."""
    return [event, *reading.synonyms.get(event, {}), *(word for char in event for word in words.get(char, ()))]


def names(name: str, text: str) -> bool:
    """Whether ``text`` names ``name``, in full or with words inserted after its first two
    characters (北京局 in 北京检验检疫局)."""
    if name in text:
        return True
    rest = "".join(f"[^，。；！？\n]{{0,{NAME_GAP}}}{re.escape(char)}" for char in name[2:])
    return len(name) > 2 and re.search(re.escape(name[:2]) + rest, text) is not None


