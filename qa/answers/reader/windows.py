"""The reader's inputs: a question and a context cut into overlapping token windows.

A window is ``<s> question </s> context-part </s>``. Each context token keeps its character span
in the context, so a span the reader picks maps back to the quoted text. Shared by training
(:mod:`qa.train_reader`) and answering (:mod:`qa.answers.reader.runtime`): both must cut alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from embeddings.trimmed_tokenizer import TokenIds

MAX_TOKENS = 192  # per window, special tokens included
QUESTION_TOKENS = 40  # a longer question keeps its first tokens
STRIDE = 96  # context tokens between the starts of two windows
CLS_ID, PAD_ID, SEP_ID = 0, 1, 2  # XLM-R's <s>, <pad>, </s>
CHUNK_CHARACTERS = 400  # a longer text is tokenized in pieces (the encoder's tokenizer truncates at 512 tokens)

# text -> (token ids, character spans): ``tokenizers`` encodings without special tokens
Encode = Callable[[str], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Window:
    """One window's token ids and, for each token, its character span in the context
    (``-1, -1`` for the question and special tokens)."""

    ids: np.ndarray
    spans: np.ndarray
    context_from: int  # the position of the window's first context token

    @property
    def text_range(self) -> tuple[int, int]:
        """The context characters the window covers."""
        inside = self.spans[self.context_from:-1]
        return int(inside[0, 0]), int(inside[-1, 1])


def encode_text(tokens: TokenIds, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and character spans of ``text`` (see :data:`Encode`), tokenized in pieces of at
    most ``CHUNK_CHARACTERS`` so that nothing is truncated."""
    pieces = [text[i:i + CHUNK_CHARACTERS] for i in range(0, len(text), CHUNK_CHARACTERS)] or [""]
    ids, spans = [], []
    for begin, (piece_ids, piece_spans) in zip(range(0, max(len(text), 1), CHUNK_CHARACTERS),
                                               tokens.encode_spans(pieces)):
        ids.append(piece_ids)
        spans.append(piece_spans + begin)
    return np.concatenate(ids), np.concatenate(spans)


def cut(question: tuple[np.ndarray, np.ndarray], context: tuple[np.ndarray, np.ndarray],
        max_tokens: int = MAX_TOKENS, stride: int = STRIDE) -> list[Window]:
    """Windows over an encoded ``context`` for an encoded ``question`` (see :data:`Encode`); a
    context with no tokens gives none."""
    question_ids = question[0][:QUESTION_TOKENS]
    context_ids, context_spans = context
    if not len(context_ids):
        return []
    head = np.concatenate([[CLS_ID], question_ids, [SEP_ID]]).astype(np.int64)
    room = max_tokens - len(head) - 1
    windows = []
    start = 0
    while True:
        stop = min(start + room, len(context_ids))
        ids = np.concatenate([head, context_ids[start:stop], [SEP_ID]]).astype(np.int64)
        spans = np.full((len(ids), 2), -1, dtype=np.int64)
        spans[len(head):-1] = context_spans[start:stop]
        windows.append(Window(ids, spans, len(head)))
        if stop == len(context_ids):
            return windows
        start += min(stride, room)


def batch(windows: list[Window]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and attention mask of ``windows``, padded on the right to the longest."""
    width = max(len(w.ids) for w in windows)
    ids = np.full((len(windows), width), PAD_ID, dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, window in enumerate(windows):
        ids[row, : len(window.ids)] = window.ids
        mask[row, : len(window.ids)] = 1
    return ids, mask


def best_span(window: Window, start_logits: np.ndarray, end_logits: np.ndarray,
              allowed: tuple[int, int], max_tokens: int = 30) -> tuple[float, int, int]:
    """The highest-scoring span (start + end logit) of context tokens lying inside character range
    ``allowed``: (score, first character, end character); ``(-inf, 0, 0)`` when none does."""
    spans = window.spans
    usable = (spans[:, 0] >= allowed[0]) & (spans[:, 1] <= allowed[1]) & (spans[:, 1] > spans[:, 0])
    usable[: window.context_from] = False
    positions = np.flatnonzero(usable)
    if not len(positions):
        return float("-inf"), 0, 0
    starts = start_logits[positions]
    ends = end_logits[positions]
    scores = starts[:, None] + ends[None, :]
    gap = positions[None, :] - positions[:, None]
    scores = np.where((gap >= 0) & (gap < max_tokens), scores, -np.inf)
    first, last = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return float(scores[first, last]), int(spans[positions[first], 0]), int(spans[positions[last], 1])


def compose(title: str, text: str) -> tuple[str, int]:
    """The context a reader sees for a passage: its document title and headings, a line break, then
    its text; and where the text starts in it."""
    head = title.strip()
    return (f"{head}\n{text}", len(head) + 1) if head else (text, 0)


def null_score(start_logits: np.ndarray, end_logits: np.ndarray) -> float:
    """The score of no span: a span from ``<s>`` to ``<s>``, which the reader learns for a window
    that does not answer."""
    return float(start_logits[0] + end_logits[0])
