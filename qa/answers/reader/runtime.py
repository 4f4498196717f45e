"""The trained reader at answer time, through onnxruntime: for each candidate passage, the
log-odds that it answers the question and the short answer span it holds.

The weights ship in ``weights.safetensors`` beside this file (layers in int8, heads in fp16); the
first use exports them (int8, see :mod:`qa.answers.reader.export`) to
``$REPORT_QA_HOME/models/reader/<hash of weights and format>/reader.onnx``, and a missing or
damaged export is made again. Windows are cut as in training (see
:mod:`qa.answers.reader.windows`); all windows of all passages go through one run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

from embeddings.onnx_encoder import open_session
from embeddings.prepared import read_or_rebuild
from embeddings.trimmed_tokenizer import TokenIds
from embeddings.word_embeddings import WORD_EMBEDDINGS_INPUT, WordEmbeddings
from qa.answers.reader.export import FORMAT, export_reader
from qa.answers.reader.windows import Window, batch, best_span, compose, cut, encode_text, null_score
from qa.language.textnorm import simplified, simplified_in_place

WEIGHTS = Path(__file__).with_name("weights.safetensors")
EXPORT_FOLDER = "models/reader"
MAX_SPAN_TOKENS = 30
_LOAD_ERRORS = (OSError, ort_errors.Fail, ort_errors.InvalidArgument, ort_errors.InvalidGraph,
                ort_errors.InvalidProtobuf, ort_errors.NoSuchFile, ort_errors.RuntimeException)


@dataclass(frozen=True)
class WindowOutput:
    """One window of a passage as the reader saw it: its start and end logits, and where the
    passage's text starts in the window's context."""

    window: Window
    start: np.ndarray
    end: np.ndarray
    offset: int

    def lead(self, low: int, high: int) -> float:
        """The best span within passage characters ``[low, high)`` minus no span (see
        :func:`null_score`); ``-inf`` when the window holds none of them."""
        score, _, _ = best_span(self.window, self.start, self.end, (self.offset + low, self.offset + high),
                                MAX_SPAN_TOKENS)
        return score - null_score(self.start, self.end)


@dataclass(frozen=True)
class Verdict:
    """What the reader makes of one passage: the answer head's log-odds (its best window's), how far
    its best span leads no span, and that span in the passage's text (character offsets)."""

    logit: float
    lead: float
    span: tuple[int, int] | None
    windows: tuple[WindowOutput, ...]

    def lead_within(self, low: int, high: int) -> float:
        """How far the best span inside passage characters ``[low, high)`` (a sentence) leads no span."""
        return max((w.lead(low, high) for w in self.windows), default=float("-inf"))


NOTHING = Verdict(float("-inf"), float("-inf"), None, ())


class Reader:
    """The reader's ONNX session with the encoder's tokenizer and word embeddings (thread-safe:
    onnxruntime sessions are, and nothing here changes after construction)."""

    def __init__(self, session: onnxruntime.InferenceSession, tokens: TokenIds, embeddings: WordEmbeddings) -> None:
        self.session = session
        self.tokens = tokens
        self.embeddings = embeddings
        self.inputs = {node.name for node in session.get_inputs()}

    def read(self, question: str, passages: Sequence[tuple[str, str]]) -> list[Verdict]:
        """A :class:`Verdict` for each ``(context, text)`` passage: ``context`` is its document
        title and headings, ``text`` the passage itself (spans are offsets into it).

        Everything is read in simplified characters: the reader was trained on questions and
        passages in one script, and reads a traditional question of a simplified report poorly.
        """
        asked = encode_text(self.tokens, simplified(question))
        windows, owners, offsets = [], [], []
        for number, (context, text) in enumerate(passages):
            composed, offset = compose(simplified(context), simplified_in_place(text))
            for window in cut(asked, encode_text(self.tokens, composed)):
                windows.append(window)
                owners.append(number)
                offsets.append(offset)
        if not windows:
            return [NOTHING] * len(passages)
        ids, mask = batch(windows)
        feeds = {"attention_mask": mask, WORD_EMBEDDINGS_INPUT: self.embeddings.lookup(ids), "input_ids": ids}
        answer, start, end = self.session.run(None, {name: feeds[name] for name in self.inputs})
        outputs: list[list[tuple[float, WindowOutput]]] = [[] for _ in passages]
        for row, (window, number, offset) in enumerate(zip(windows, owners, offsets)):
            outputs[number].append((float(answer[row]), WindowOutput(window, start[row], end[row], offset)))
        return [self._verdict(found, len(text)) if found else NOTHING
                for found, (_, text) in zip(outputs, passages)]

    @staticmethod
    def _verdict(found: list[tuple[float, WindowOutput]], length: int) -> Verdict:
        """A passage's verdict from its windows: the best head log-odds, the best span of all."""
        best = (float("-inf"), None)
        for _, output in found:
            low, high = output.offset, output.offset + length
            score, first, last = best_span(output.window, output.start, output.end, (low, high), MAX_SPAN_TOKENS)
            lead = score - null_score(output.start, output.end)
            if lead > best[0]:
                best = (lead, (first - low, last - low))
        return Verdict(max(logit for logit, _ in found), best[0], best[1], tuple(output for _, output in found))


def load_reader(encoder_folder: Path, tokens: TokenIds, embeddings: WordEmbeddings, home: Path,
                weights: Path = WEIGHTS) -> Reader:
    """The reader for the prepared encoder at ``encoder_folder`` (whose tokenizer and word
    embeddings it shares), its ONNX export made under ``home`` when missing or damaged."""
    digest = hashlib.sha256(weights.read_bytes() + FORMAT.encode()).hexdigest()[:16]
    folder = home / EXPORT_FOLDER / digest
    target = folder / "reader.onnx"

    def rebuild(error: Exception) -> None:
        export_reader(encoder_folder, weights, target, reason=f"{type(error).__name__}")

    return Reader(read_or_rebuild(folder, lambda: open_session(target), rebuild, _LOAD_ERRORS), tokens, embeddings)


