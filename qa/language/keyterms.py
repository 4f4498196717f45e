"""How much each word of a question counts when checking that a passage answers it.

A term's weight is the product of three factors:

- its rarity in the report (IDF over paragraphs, given by the caller);
- its rarity in Chinese at large, from the general IDF table that ships with jieba
  (``jieba/analyse/idf.txt``): 现在, 所在, 单位 or 成绩 are common everywhere and are often
  only the asker's wording, while 硕士 or 邮政编码 name the fact being asked about;
- its part of speech: nouns, names, dates and years count fully; verbs, adverbs, numerals and
  relative time words (现在, 目前, 去年: they point at the asker's present, not the report's) a
  fifth, as they are the words a paraphrase changes; question words not at all.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.language.resources import cached, stable_hash

_QUESTION_WORD = re.compile(r"几|哪|谁|什么|多少|多长|多大|多久|怎|啥|何")
_POS_FACTORS = (("n", 1.0), ("eng", 1.0), ("l", 1.0), ("t", 1.0), ("vn", 1.0))
OTHER_POS_FACTOR = 0.2  # verbs, numerals, adverbs: often paraphrased
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
RELATIVE_TIME_WORDS = frozenset(
    "现在 目前 如今 当前 当下 眼下 现今 今天 今年 去年 明年 前年 最近 近来 近年 近年来 近期 以前 之前 过去 原来 当时 "
    "以后 之后 将来 未来 今后 日前 近日".split()
)


@dataclass(frozen=True)
class _SpecificityTable:
    """Specificity of the words more common than the median word of jieba's IDF table.

    Words at or above the median, and words the table lacks, are fully specific and not stored.
    The other 130,000 are held as sorted 64-bit stable string hashes with a float16 ratio each
    (about 1.3 MB, against 14 MB for a dict), cached on disk (see :mod:`qa.language.resources`).
    """

    hashes: np.ndarray
    ratios: np.ndarray

    def get(self, term: str) -> float:
        key = np.int64(stable_hash(term))
        i = int(np.searchsorted(self.hashes, key))
        return float(self.ratios[i]) if i < len(self.hashes) and self.hashes[i] == key else 1.0

    def dump(self) -> bytes:
        return self.hashes.tobytes() + self.ratios.tobytes()

    @classmethod
    def load(cls, data: bytes) -> _SpecificityTable:
        count, extra = divmod(len(data), 10)  # 8 bytes of hash and 2 of ratio a word
        if extra:
            raise ValueError("truncated table")
        return cls(np.frombuffer(data[: 8 * count], dtype=np.int64), np.frombuffer(data[8 * count:], dtype=np.float16))


def _read_general_idf(table: Path) -> _SpecificityTable:
    """Build the table from jieba's ``analyse/idf.txt`` (0.4 s)."""
    with table.open(encoding="utf-8") as lines:  # two streaming passes: the text is never held whole
        values = np.fromiter((float(line.rpartition(" ")[2]) for line in lines), dtype=np.float64)
    with table.open(encoding="utf-8") as lines:
        hashes = np.fromiter((stable_hash(line.rpartition(" ")[0]) for line in lines), dtype=np.int64, count=len(values))
    ratios = values / np.median(values)
    common = ratios < 1.0
    order = np.argsort(hashes[common])
    return _SpecificityTable(hashes[common][order], ratios[common][order].astype(np.float16))


@functools.lru_cache(maxsize=1)
def _general_idf() -> _SpecificityTable:
    """jieba's IDF table as a :class:`_SpecificityTable`, from the cache once built."""
    table = Path(str(importlib.resources.files("jieba") / "analyse" / "idf.txt"))
    return cached("general-idf", table, lambda: _read_general_idf(table), _SpecificityTable.dump, _SpecificityTable.load)


@functools.lru_cache(maxsize=8192)
def specificity(term: str) -> float:
    """How specific ``term`` is in general Chinese, in (0, 1]: its IDF over the table's median,
    capped at 1 (cached: questions share their words)."""
    return _general_idf().get(term)


def pos_factor(term: str, tags: Sequence[tuple[str, str]]) -> float:
    """1 for a noun, name, date or year of the question tagged ``tags``; ``OTHER_POS_FACTOR`` for
    other words and for relative time words."""
    if _YEAR.fullmatch(term):
        return 1.0
    if term in RELATIVE_TIME_WORDS:
        return OTHER_POS_FACTOR
    flags = [flag for word, flag in tags if term in word or (len(word) >= 2 and word in term)]
    return max((_flag_factor(flag) for flag in flags), default=OTHER_POS_FACTOR)


def _flag_factor(flag: str) -> float:
    return next((factor for prefix, factor in _POS_FACTORS if flag.startswith(prefix)), OTHER_POS_FACTOR)


def term_weights(terms: Sequence[str], tags: Sequence[tuple[str, str]], report_idf: Callable[[str], float]) -> dict[str, float]:
    """Weight of each key term of a question tagged ``tags``: report IDF × general specificity ×
    part-of-speech factor.

    Question words get no weight. A search-mode compound is dropped when a shorter term inside
    it is kept (所在单位 → 所在, 单位), so one phrase is not counted several times.
    """
    kept = [t for t in terms if not _QUESTION_WORD.search(t)]
    return {
        term: report_idf(term) * specificity(term) * pos_factor(term, tags)
        for term in kept
        if not any(other != term and other in term for other in kept)
    }
