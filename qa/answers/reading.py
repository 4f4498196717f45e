"""What a question asks: its key terms, the forms and synonyms that state them, and the
attribute it asks of its subject.

A Chinese question's key terms are its jieba tokens weighted by :mod:`qa.language.keyterms`; each is
stated by itself, and less surely by a Cilin synonym (:mod:`qa.language.synonyms`). An English
question's key terms are its content words, stated by the report's words for them
(:mod:`qa.language.english`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from qa.language import keyterms, qtype, synonyms
from qa.language.english import Glossary, english_kind
from qa.language.postags import tag
from qa.language.qtype import QuestionType
from qa.language.textnorm import Tokenizer, base_jieba, normalize

FOCUS_CLOSENESS = 0.5  # a synonym this close names the asked-for noun as well as the noun itself
UNGLOSSED_FACTOR = 0.5  # weight of an English word with no report word for it, against a never-used term
_NAME_FLAGS = ("ns", "nr", "nt")
_DIGIT = re.compile(r"[0-9]|^第")
_HAN_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
SynonymsOf = Callable[[str], Mapping[str, float]]  # a word -> the library's Cilin words close to it


@dataclass(frozen=True)
class Reading:
    """What the answer checks look for in one question.

    ``text`` is the Chinese the checks match against: the question itself, or the report's
    words for an English question's words. ``forms`` gives, for each key term, the strings
    that state it in a passage (the term itself, or an English word's glosses); ``synonyms``
    the words that may stand for it, with their closeness. ``focus`` holds the forms of the
    asked-for noun (员工 in 多少名员工, 局长 in 局长是谁), ``events`` those of the verbs a time
    question dates (成立 in 哪一年成立). Names and numbers have no synonyms (第六 is not 第七).
    ``unglossed`` is the share of an English question's key-term weight the library has no word
    for (0 for a Chinese question).
    """

    text: str
    kind: QuestionType
    weights: dict[str, float]
    forms: dict[str, tuple[str, ...]]
    synonyms: dict[str, dict[str, float]]
    names: tuple[str, ...]
    focus: tuple[str, ...]
    events: tuple[str, ...]
    unglossed: float = 0.0

    def states(self, term: str, text: str) -> bool:
        """Whether normalized ``text`` states key ``term`` in one of its forms."""
        forms = self.forms[term]
        return forms[0] in text if len(forms) == 1 else any(form in text for form in forms)

    def synonyms_in(self, term: str, text: str) -> dict[str, float]:
        """The synonyms of key ``term`` that normalized ``text`` holds, with their closeness."""
        return {word: closeness for word, closeness in self.synonyms[term].items() if word in text}

    @property
    def subject(self) -> str:
        """The asked-for noun as a person reads it (员工, 局长), or "" without one."""
        return self.focus[0] if self.focus else ""


def question_terms(question: str, tokenizer: Tokenizer, library_text: str) -> list[str]:
    """The question's content terms, each once, with its question words removed, and each word
    jieba guessed (山东局有几个 → 局有) replaced by the known words inside it (see :func:`known_words`)."""
    return list(dict.fromkeys(word for token in tokenizer.question_tokens(question) for word in known_words(token, library_text)))


def known_words(token: str, library_text: str) -> list[str]:
    """``token`` itself when jieba's dictionary or the library knows it (or it is not Chinese);
    otherwise the longest pieces of two characters or more that one of them knows (年凤岗 →
    凤岗), none when there is no such piece (局有, 院六: a name glued to the next word)."""
    if not _HAN_WORD.fullmatch(token) or _known(token, library_text):
        return [token]
    pieces = [(i, j) for i in range(len(token)) for j in range(i + 2, len(token) + 1)
              if (i, j) != (0, len(token)) and _known(token[i:j], library_text)]
    return [token[i:j] for i, j in pieces if not any(a <= i and j <= b and (a, b) != (i, j) for a, b in pieces)]


def _known(word: str, library_text: str) -> bool:
    return bool(base_jieba().FREQ.get(word)) or word in library_text


def library_synonyms(word: str, vocabulary: Collection[str]) -> dict[str, float]:
    """The Cilin words close to ``word`` that ``vocabulary`` (a library's words) holds, with
    their closeness, in Cilin's order."""
    return {other: closeness for other, closeness in synonyms.related(word).items() if other in vocabulary}


def related_words(forms: Sequence[str], synonyms_of: SynonymsOf) -> dict[str, float]:
    """The library's Cilin words close to any of ``forms`` (the forms themselves excluded),
    closest value kept; ``synonyms_of`` gives a word's (see :func:`library_synonyms`)."""
    found: dict[str, float] = {}
    for form in forms:
        for word, closeness in synonyms_of(form).items():
            if word not in forms and closeness > found.get(word, 0.0):
                found[word] = closeness
    return found


def focus_forms(focus: str, tags: Sequence[tuple[str, str]], tokenizer: Tokenizer, library_text: str) -> tuple[str, ...]:
    """The strings that name the asked-for noun in a passage: the noun, with the noun right before
    it in the question (志愿者 队伍), and their words (志愿者队伍, 志愿者, 队伍); the noun alone when
    it is one word the library never uses (女党员: a count of 党员 does not answer it)."""
    if not focus:
        return ()
    focus = normalize(focus)
    text = "".join(word for word, _ in tags)
    end = 0
    for word, flag in tags:
        end += len(word)
        if text.startswith(focus, end) and flag.startswith("n") and not focus.startswith(word):
            focus = word + focus
            break
    words = tokenizer.question_tokens(focus)
    if focus in words and focus not in library_text:
        return (focus,)
    return tuple(dict.fromkeys([focus, *words]))


def with_synonyms(forms: tuple[str, ...], synonyms_of: SynonymsOf) -> tuple[str, ...]:
    """``forms`` of the asked-for noun, then the library's Cilin synonyms of them at least
    ``FOCUS_CLOSENESS`` close (开支 → 费用, 员工 → 职工; not 党员 → 团员)."""
    close = [word for word, closeness in related_words(forms, synonyms_of).items() if closeness >= FOCUS_CLOSENESS]
    return (*forms, *close)


def read_chinese(question: str, tokenizer: Tokenizer, weight: Callable[[str], float], library_text: str,
                 synonyms_of: SynonymsOf) -> Reading:
    """The :class:`Reading` of a Chinese question (simplified or traditional) over a library of
    normalized ``library_text`` whose synonyms of a word ``synonyms_of`` gives."""
    terms = question_terms(qtype.strip_question_phrases(question), tokenizer, library_text)
    tags = tag(question)
    weights = keyterms.term_weights(terms, tags, weight)
    kind = qtype.detect(question)
    names = [normalize(word) for word, flag in tags if flag in _NAME_FLAGS and len(word) >= 2]
    events = [term for term in weights if any(term in word and flag in ("v", "vn") for word, flag in tags)]
    fixed = {term for term in weights for word, flag in tags if term in word and flag in (*_NAME_FLAGS, "m")}
    return Reading(
        text=question,
        kind=kind,
        weights=weights,
        forms={term: (term,) for term in weights},
        synonyms={term: {} if term in fixed or _DIGIT.search(term) else related_words([term], synonyms_of) for term in weights},
        names=tuple(names),
        focus=with_synonyms(focus_forms(kind.focus, tags, tokenizer, library_text), synonyms_of),
        events=tuple(events),
    )


def read_english(question: str, glossary: Glossary, weight: Callable[[str], float], synonyms_of: SynonymsOf) -> Reading:
    """The :class:`Reading` of an English question: its words stand as the report's words for them."""
    glosses = glossary.glosses(question)
    weights = {key: _english_weight(key, words, glossary, weight) for key, words in glosses.items()}
    forms = {key: (*words, key) for key, words in glosses.items()}  # CNAS, ISO9001 stand as written
    kind = english_kind(question)
    asked = set(kind.focus.split())
    focus = [word for key, words in glosses.items() if asked & set(key.split()) for word in words]  # base forms
    total = sum(weights.values())
    unglossed = sum(weights[key] for key, words in glosses.items() if not words) / total if total > 0 else 0.0
    return Reading(
        text=glossary.chinese_text(question),
        kind=QuestionType(kind.kind, focus=focus[0] if focus else "", measure=kind.measure),
        weights=weights,
        forms=forms,
        synonyms={key: related_words(words, synonyms_of) for key, words in glosses.items()},
        names=(),
        focus=tuple(focus),
        events=(),
        unglossed=unglossed,
    )


def _english_weight(key: str, words: Sequence[str], glossary: Glossary, weight: Callable[[str], float]) -> float:
    """An English key weighs as its most telling report word. Without one it weighs half as much
    as a term the report never uses (the dictionary may lack the report's word for it), times
    its specificity in English."""
    if words:
        return max(weight(w) * keyterms.specificity(w) for w in words)
    return UNGLOSSED_FACTOR * weight(key) * glossary.specificity(key)
