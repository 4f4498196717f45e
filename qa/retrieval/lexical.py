"""BM25 over paragraphs (bm25s does the maths) with jieba tokens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from qa.language.textnorm import Tokenizer, quoted_terms, romanized


def index_tokens(tokenizer: Tokenizer, passage: str) -> list[str]:
    """What BM25 indexes for a passage: its jieba tokens plus the pinyin of its Chinese words,
    so an English question naming a place or unit in pinyin still matches."""
    tokens = tokenizer.tokenize(passage)
    return tokens + romanized(tokens)


class LexicalIndex:
    """A BM25 index over passages; scores every passage for a question.

    Passages come as their :func:`index_tokens` (computed once per document and cached with it);
    questions are tokenized plainly with ``tokenizer``, which knows the corpus' own terms.
    """

    def __init__(self, bm25: bm25s.BM25, tokenizer: Tokenizer) -> None:
        self._bm25 = bm25
        self.tokenizer = tokenizer
        self.size = int(bm25.scores["num_docs"])

    @classmethod
    def build(cls, passage_tokens: Sequence[Sequence[str]], tokenizer: Tokenizer) -> LexicalIndex:
        """Index passages given as their tokens (see :func:`index_tokens`)."""
        bm25 = bm25s.BM25()
        bm25.index([list(tokens) or [""] for tokens in passage_tokens], show_progress=False)
        return cls(bm25, tokenizer)

    @classmethod
    def load(cls, folder: Path, tokenizer: Tokenizer) -> LexicalIndex:
        """An index written by :meth:`save`, its questions tokenized with ``tokenizer``."""
        return cls(bm25s.BM25.load(str(folder)), tokenizer)

    def save(self, folder: Path) -> None:
        """Write the index to ``folder`` (bm25s' format)."""
        self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def from_passages(cls, passages: Sequence[str], tokenizer: Tokenizer | None = None) -> LexicalIndex:
        """Index passage texts, with a tokenizer taught their quoted terms unless one is given."""
        tokenizer = tokenizer or Tokenizer(quoted_terms(passages))
        return cls.build([index_tokens(tokenizer, p) for p in passages], tokenizer)

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage (float32, shape ``(n,)``); zeros if no token matches."""
        token_ids = self._bm25.get_tokens_ids(self.tokenizer.question_tokens(question))
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
