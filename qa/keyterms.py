"""How much each word of a question counts when checking that a passage answers it.

A term's weight is the product of three factors:

- its rarity in the report (IDF over paragraphs, given by the caller);
- its rarity in Chinese at large, from the general IDF table that ships with jieba
  (``jieba/analyse/idf.txt``): 现在, 所在, 单位 or 成绩 are common everywhere and are often
  only the asker's wording, while 硕士 or 邮政编码 name the fact being asked about;
- its part of speech: nouns, names, times and years count fully, verbs, adverbs and
  numerals a fifth (they are the words a paraphrase changes), question words not at all.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Callable, Sequence

import numpy as np

from qa import qtype

_QUESTION_WORD = re.compile(r"几|哪|谁|什么|多少|多长|多大|多久|怎|啥|何")
_POS_FACTORS = (("n", 1.0), ("eng", 1.0), ("l", 1.0), ("t", 1.0), ("vn", 1.0))
OTHER_POS_FACTOR = 0.2  # verbs, numerals, adverbs: often paraphrased
_YEAR = re.compile(r"(?:1[89]|20)\d\d")


@functools.lru_cache(maxsize=1)
def _general_idf() -> dict[str, float]:
    """Specificity of the words more common than the median word of jieba's IDF table.

    Words at or above the median (and words the table lacks) are fully specific and are not
    stored, which keeps about half of the table's 270,000 lines. The file is read twice so the
    whole table is never held in memory.
    """
    table = importlib.resources.files("jieba") / "analyse" / "idf.txt"
    with table.open(encoding="utf-8") as lines:
        median = float(np.median(np.fromiter((float(line.rpartition(" ")[2]) for line in lines), dtype=np.float64)))
    shared: dict[float, float] = {}  # one float object per distinct rounded value
    specific = {}
    with table.open(encoding="utf-8") as lines:
        for line in lines:
            word, _, value = line.rstrip().rpartition(" ")
            ratio = round(float(value) / median, 2)
            if ratio < 1.0:
                specific[word] = shared.setdefault(ratio, ratio)
    return specific


def specificity(term: str) -> float:
    """How specific ``term`` is in general Chinese, in (0, 1]: its IDF over the table's median, capped at 1."""
    return _general_idf().get(term, 1.0)


def pos_factor(term: str, question: str) -> float:
    """1 for a noun, name, time word or year of ``question``, ``OTHER_POS_FACTOR`` for other words."""
    if _YEAR.fullmatch(term):
        return 1.0
    flags = [flag for word, flag in qtype.tagged(question) if term in word or (len(word) >= 2 and word in term)]
    return max((_flag_factor(flag) for flag in flags), default=OTHER_POS_FACTOR)


def _flag_factor(flag: str) -> float:
    return next((factor for prefix, factor in _POS_FACTORS if flag.startswith(prefix)), OTHER_POS_FACTOR)


def term_weights(question: str, terms: Sequence[str], report_idf: Callable[[str], float]) -> dict[str, float]:
    """Weight of each key term of ``question``: report IDF × general specificity × part-of-speech factor.

    Question words get no weight. A search-mode compound is dropped when a shorter term inside
    it is kept (所在单位 → 所在, 单位), so one phrase is not counted several times.
    """
    kept = [t for t in terms if not _QUESTION_WORD.search(t)]
    return {
        term: report_idf(term) * specificity(term) * pos_factor(term, question)
        for term in kept
        if not any(other != term and other in term for other in kept)
    }
