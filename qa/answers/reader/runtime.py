"""The trained reader at answer time, through onnxruntime: for each candidate passage, the
log-odds that it answers the question and the short answer span it holds.

The weights ship in ``weights.safetensors`` beside this file (layers in int8, heads in fp16); the
first use exports them (int8, see :mod:`qa.answers.reader.export`) to
``$REPORT_QA_HOME/models/reader/<hash of weights and format>/reader.onnx`` (its weights in
``reader.onnx_data`` beside it), and a missing or damaged export is made again. Windows are cut
as in training (see :mod:`qa.answers.reader.windows`); each runs alone on one core, the windows
of a question side by side on all of them.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

from embeddings.onnx_encoder import open_session, usable_cpus
from embeddings.prepared import read_or_rebuild
from embeddings.trimmed_tokenizer import TokenIds
from embeddings.word_embeddings import WORD_EMBEDDINGS_INPUT, WordEmbeddings
from qa.answers.reader.export import FORMAT, export_reader
from qa.answers.reader.windows import Window, best_span, compose, cut, encode_text, null_score
from qa.language.textnorm import simplified, simplified_in_place

WEIGHTS = Path(__file__).with_name("weights.safetensors")
EXPORT_FOLDER = "models/reader"
MAX_SPAN_TOKENS = 30
KEPT_EXPORTS = 3  # exports kept under one home: this version's and the newest two others' (other checkouts)
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
    onnxruntime sessions are, and nothing here changes after construction).

    ``session`` should run each call on one core: the reader runs a question's windows side by
    side, one a core, through a pool of ``workers`` threads shared by every caller.
    """

    def __init__(self, session: onnxruntime.InferenceSession, tokens: TokenIds, embeddings: WordEmbeddings,
                 workers: int) -> None:
        self.session = session
        self.tokens = tokens
        self.embeddings = embeddings
        self.inputs = {node.name for node in session.get_inputs()}
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reader")

    def read(self, question: str, passages: Sequence[tuple[str, str]]) -> list[Verdict]:
        """A :class:`Verdict` for each ``(context, text)`` passage: ``context`` is its document
        title and headings, ``text`` the passage itself (spans are offsets into it).

        Everything is read in simplified characters: the reader was trained on questions and
        passages in one script, and reads a traditional question of a simplified report poorly.
        """
        asked = encode_text(self.tokens, simplified(question))
        cut_passages = [self._cut_passage(asked, context, text) for context, text in passages]
        windows = [window for _, passage_windows in cut_passages for window in passage_windows]
        runs = iter(self.pool.map(self._run, windows))
        verdicts = []
        for (offset, passage_windows), (_, text) in zip(cut_passages, passages):
            found = []
            for window in passage_windows:
                answer, start, end = next(runs)
                found.append((answer, WindowOutput(window, start, end, offset)))
            verdicts.append(self._verdict(found, len(text)))
        return verdicts

    def _cut_passage(self, asked: tuple[np.ndarray, np.ndarray], context: str, text: str) -> tuple[int, list[Window]]:
        """The windows of one passage for the encoded question ``asked``, and where the passage's
        text starts in their context."""
        composed, offset = compose(simplified(context), simplified_in_place(text))
        return offset, cut(asked, encode_text(self.tokens, composed))

    def _run(self, window: Window) -> tuple[float, np.ndarray, np.ndarray]:
        """The answer head's log-odds and the start and end logits of one window.

        Windows run alone, unpadded: the int8 graph quantizes its activations with one scale per
        run, so a window batched with another would read differently with each neighbour; alone,
        a passage's verdict depends on it only (and onnxruntime is faster on this CPU without the
        padding). Two windows on one core each, side by side, take 0.69 of the time they take one
        after the other on both cores (measured on 192 questions: 37 ms against 54 ms).
        """
        ids = window.ids[None, :]
        feeds = {"attention_mask": np.ones_like(ids), WORD_EMBEDDINGS_INPUT: self.embeddings.lookup(ids),
                 "input_ids": ids}
        answer, start, end = self.session.run(None, {name: feeds[name] for name in self.inputs})
        return float(answer[0]), start[0], end[0]

    @staticmethod
    def _verdict(found: list[tuple[float, WindowOutput]], length: int) -> Verdict:
        """A passage's verdict from its windows: the best head log-odds, the best span of all
        (:data:`NOTHING` without a window)."""
        if not found:
            return NOTHING
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
    embeddings it shares), its ONNX export made under ``home`` when missing or damaged; making
    one removes all but the newest :data:`KEPT_EXPORTS` of the exports there."""
    digest = hashlib.sha256(weights.read_bytes() + FORMAT.encode()).hexdigest()[:16]
    folder = home / EXPORT_FOLDER / digest
    target = folder / "reader.onnx"

    def rebuild(error: Exception) -> None:
        export_reader(encoder_folder, weights, target, reason=f"{type(error).__name__}")
        _remove_older_exports(folder)

    session = read_or_rebuild(folder, lambda: open_session(target, threads=1), rebuild, _LOAD_ERRORS)
    return Reader(session, tokens, embeddings, workers=usable_cpus())


def _remove_older_exports(current: Path) -> None:
    """Remove the exports beside ``current`` (of other weights or formats) but the newest
    ``KEPT_EXPORTS - 1``: each is 22 MB, and a new version of the weights makes a new one."""
    others = [folder for folder in current.parent.iterdir() if folder.is_dir() and folder != current]
    others.sort(key=lambda folder: folder.stat().st_mtime, reverse=True)
    for stale in others[KEPT_EXPORTS - 1:]:
        shutil.rmtree(stale, ignore_errors=True)
