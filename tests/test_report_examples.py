"""The reader's training windows from gold questions about the report: the answering window holds
the evidence, the near miss and the other windows do not, and unanswerable questions give only
windows that do not answer."""

from __future__ import annotations

import random

import numpy as np

from qa.answers.answerer import READ_DEPTH
from qa.answers.reader.windows import Window, encode_text
from qa.evaluate import contains_evidence, read_gold
from qa.report_examples import report_windows
from tests.conftest import TEST_DATA


class Recording:
    """An ``Encode`` that keeps every text it encoded, to read a window's characters back."""

    def __init__(self, tokens) -> None:
        self.tokens, self.seen = tokens, {}

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        self.seen[text] = encode_text(self.tokens, text)
        return self.seen[text]

    def text_of(self, window: Window) -> str:
        """The characters of the context a window was cut from that it covers."""
        ids, (low, high) = window.ids[window.context_from:-1], window.text_range
        for text, (all_ids, spans) in self.seen.items():
            first = np.flatnonzero(spans[:, 0] == low)
            if len(first) and np.array_equal(all_ids[first[0]:first[0] + len(ids)], ids):
                return text[low:high]
        raise AssertionError("a window of no encoded text")


def test_an_answerable_question_gives_its_evidence_window_and_windows_without_it(assistant):
    questions = read_gold(TEST_DATA / "answerable_variants.jsonl")[:10]
    for question in questions:
        encode = Recording(assistant.encoder.tokens)
        found = report_windows(assistant, [question], encode, random.Random(0))
        answering = [encode.text_of(w) for w, answers in found if answers]
        others = [encode.text_of(w) for w, answers in found if not answers]
        assert len(answering) == 1 and contains_evidence(answering[0], question.evidence), question.question
        assert 1 <= len(others) <= 2 and not any(contains_evidence(t, question.evidence) for t in others)


def test_unanswerable_questions_give_only_windows_that_do_not_answer(assistant):
    questions = read_gold(TEST_DATA / "independent_unanswerable.jsonl")[:5]
    found = report_windows(assistant, questions, Recording(assistant.encoder.tokens), random.Random(0))
    assert len(found) == READ_DEPTH * len(questions) and not any(answers for _, answers in found)
