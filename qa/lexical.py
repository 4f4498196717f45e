"""BM25 over paragraphs (bm25s does the maths) with jieba tokens."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import bm25s
import numpy as np

from qa.textnorm import Tokenizer, romanized

_QUOTED = re.compile(r"[“「『\"]([^“”「」『』\"，。！？；]{2,12})[”」』\"]")


def quoted_terms(texts: Sequence[str]) -> list[str]:
    """Phrases a corpus puts in quotes (names of campaigns, slogans, brands): its own terms."""
    return sorted({match.group(1) for text in texts for match in _QUOTED.finditer(text)})


class LexicalIndex:
    """A BM25 index over passages; scores every passage for a question.

    Passages are indexed with their jieba tokens plus the pinyin of their Chinese words, so an
    English question naming a place or unit in pinyin still matches; questions are tokenized
    plainly.
    """

    def __init__(self, passages: Sequence[str], tokenizer: Tokenizer | None = None) -> None:
        self.tokenizer = tokenizer or Tokenizer(quoted_terms(passages))
        self._bm25 = bm25s.BM25()
        self._bm25.index([self._passage_tokens(p) for p in passages], show_progress=False)
        self.size = len(passages)

    def _passage_tokens(self, passage: str) -> list[str]:
        tokens = self.tokenizer.tokenize(passage)
        return tokens + romanized(tokens) or [""]

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage (float32, shape ``(n,)``); zeros if no token matches."""
        token_ids = self._bm25.get_tokens_ids(self.tokenizer.tokenize(question))
        if not token_ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(token_ids), dtype=np.float32)

    def synonym_scores(self, groups: Iterable[Sequence[str]]) -> np.ndarray:
        """Sum over groups of alternative words of each passage's best BM25 score within the group.

        A concept stated by several alternatives (an English word's glosses) counts once,
        however many of them a passage or the group holds.
        """
        total = np.zeros(self.size, dtype=np.float32)
        for words in groups:
            if words:
                total += np.max([self.scores(word) for word in words], axis=0)
        return total
