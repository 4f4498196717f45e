"""Text normalization and tokenization shared by indexing and querying.

Both sides go through the same steps: OpenCC traditional -> simplified, Unicode NFKC (folds
full-width letters, digits and punctuation to half-width), lower case, then jieba in search
mode. Offsets are never taken from normalized text: it is only used to compute tokens.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence

import jieba
import opencc

_TOKEN_CHARS = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_HAN_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")
_QUOTED = re.compile(r"[“「『\"]([^“”「」『』\"，。！？；]{2,12})[”」』\"]")
# Function words and question words that carry no topic; the question-type words are used by
# the answer step, not by retrieval.
STOPWORDS = frozenset(
    """
    的 了 和 与 及 或 是 在 有 为 对 于 把 被 将 也 都 而 并 等 之 其 这 那 该 此 个 名
    吗 呢 吧 啊 呀 嘛 哦 啦 呗 么 一共 总共 大概 大约 什么 多少 几 哪 哪些 哪个 哪里 哪儿 哪一年 谁 怎么 怎样 如何 为什么 是否
    请问 一下 告诉 我 你 他们 我们 中 上 下 里 从 到 由 以 所 着 过 得 地 就 还 又 呢 年
    the a an of to in on for and or is are was were be by with what which who how many much
    when where why does did do
    """.split()
)


@functools.lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=1)
def base_jieba() -> jieba.Tokenizer:
    """jieba's default tokenizer, initialized once per process (loading its dictionary is slow)."""
    jieba.setLogLevel(logging.WARNING)
    jieba.dt.initialize()
    return jieba.dt


@functools.lru_cache(maxsize=16384)
def simplified(text: str) -> str:
    """``text`` in simplified characters (OpenCC t2s); the length may change."""
    return _converter().convert(text)


def simplified_in_place(text: str) -> str:
    """``text`` in simplified characters when that keeps every character where it was (almost
    always: t2s maps character to character), else ``text`` as it is."""
    converted = _converter().convert(text)
    return converted if len(converted) == len(text) else text


def normalize(text: str) -> str:
    """Simplified characters, half-width forms, lower case (cached: the answer step normalizes
    the same sentences and headings for every question)."""
    return unicodedata.normalize("NFKC", _converter().convert(text)).lower()


def _is_token(token: str) -> bool:
    return bool(token.strip()) and bool(_TOKEN_CHARS.search(token)) and token not in STOPWORDS


class _OwnWords(dict):
    """One tokenizer's own words (and their prefixes) over jieba's shared dictionary: reads look
    here first, then in the shared one; writes stay here (a copy of the shared one costs 15 MiB)."""

    def __init__(self, shared: dict[str, int]) -> None:
        super().__init__()
        self.shared = shared

    def __missing__(self, word: str) -> int:
        return self.shared[word]

    def __contains__(self, word: object) -> bool:
        return dict.__contains__(self, word) or word in self.shared

    def get(self, word: str, default: int | None = None) -> int | None:
        return dict.get(self, word) if dict.__contains__(self, word) else self.shared.get(word, default)


def quoted_terms(texts: Sequence[str]) -> list[str]:
    """Phrases a corpus puts in quotes (names of campaigns, slogans, brands): its own terms."""
    return sorted({match.group(1) for text in texts for match in _QUOTED.finditer(text)})


QUESTION_TOKENS_CACHED = 64  # texts: a question and its pieces, for the questions being answered


class Tokenizer:
    """jieba search-mode tokenizer, optionally taught extra words (a corpus' own terms)."""

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        base = base_jieba()
        # the default dictionary under words of its own: extra words stay local to this tokenizer
        self._jieba = jieba.Tokenizer()
        self._jieba.FREQ, self._jieba.total, self._jieba.initialized = _OwnWords(base.FREQ), base.total, True
        self.extra_words = tuple(sorted(set(extra_words)))
        for word in self.extra_words:
            self._jieba.add_word(normalize(word))
        self._question_tokens = functools.lru_cache(maxsize=QUESTION_TOKENS_CACHED)(self._tokens)

    def tokenize(self, text: str) -> list[str]:
        """Normalized jieba search-mode tokens with stopwords and punctuation removed."""
        return list(self._tokens(normalize(text)))

    def question_tokens(self, text: str) -> tuple[str, ...]:
        """:meth:`tokenize` of a question or a part of it, cached for the last few normalized
        texts: retrieval tokenizes a question, and the answer step tokenizes it again without its
        interrogative phrases, which most often leaves the same normalized text."""
        return self._question_tokens(normalize(text))

    def forget_questions(self) -> None:
        """Empty the cache of :meth:`question_tokens`."""
        self._question_tokens.cache_clear()

    def _tokens(self, normalized: str) -> tuple[str, ...]:
        return tuple(t for t in self._jieba.lcut_for_search(normalized) if _is_token(t))


def han_words(tokens: Iterable[str]) -> list[str]:
    """The Chinese words among ``tokens``: two Han characters or more, nothing else."""
    return [token for token in tokens if _HAN_WORD.match(token)]


def romanized(tokens: Iterable[str]) -> list[str]:
    """Toneless pinyin of the Chinese words among ``tokens`` (凤岗 -> ``fenggang``), one for each
    of :func:`han_words`.

    English questions name Chinese places and units in pinyin (Fenggang, Xiamen, Haidian);
    indexing passages with these forms lets BM25 match them. Single characters are skipped:
    one syllable collides with too many English words.
    """
    from pypinyin import lazy_pinyin  # 0.35 s and 50 MiB (its phrase dictionary): indexing needs it

    return ["".join(lazy_pinyin(token)) for token in han_words(tokens)]
