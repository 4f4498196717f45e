"""The reader's windows: every context token is read, windows fit, spans stay where they may."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answers.reader.windows import CLS_ID, MAX_TOKENS, PAD_ID, SEP_ID, batch, best_span, compose, cut


def encoded(length: int, first_id: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """``length`` tokens of one character each."""
    return np.arange(first_id, first_id + length, dtype=np.int64), np.stack([np.arange(length), np.arange(1, length + 1)], 1)


@pytest.mark.parametrize("length", [1, 50, 150, 151, 400, 1000])
def test_windows_cover_every_context_token_within_the_limit(length):
    question = encoded(12, first_id=5000)
    windows = cut(question, encoded(length))
    read = set()
    for window in windows:
        assert len(window.ids) <= MAX_TOKENS
        assert window.ids[0] == CLS_ID and window.ids[-1] == SEP_ID and window.ids[window.context_from - 1] == SEP_ID
        assert list(window.ids[1:13]) == list(question[0])
        assert (window.spans[: window.context_from] == -1).all() and (window.spans[-1] == -1).all()
        read.update(window.spans[window.context_from:-1, 0].tolist())
    assert read == set(range(length))
    assert [w.text_range[0] for w in windows] == sorted(w.text_range[0] for w in windows)


def test_a_long_question_is_cut_and_an_empty_context_gives_no_window():
    assert cut(encoded(5), (np.zeros(0, np.int64), np.zeros((0, 2), np.int64))) == []
    (window,) = cut(encoded(300, first_id=5000), encoded(20))
    assert window.context_from == 42  # <s>, the first 40 question tokens, </s>


def test_batch_pads_on_the_right():
    short, long = cut(encoded(3), encoded(4))[0], cut(encoded(3), encoded(9))[0]
    ids, mask = batch([short, long])
    assert ids.shape == mask.shape == (2, len(long.ids))
    assert (ids[0, len(short.ids):] == PAD_ID).all() and mask[0].sum() == len(short.ids) and mask[1].all()


def test_best_span_keeps_to_the_allowed_characters_and_orders_its_ends():
    (window,) = cut(encoded(3), encoded(20))
    start = np.zeros(len(window.ids))
    end = np.zeros(len(window.ids))
    start[window.context_from + 2], end[window.context_from + 5] = 5.0, 5.0  # characters 2..6
    start[window.context_from + 15] = 9.0  # a better start after the best end
    score, first, last = best_span(window, start, end, (0, 20))
    assert (first, last) == (2, 6) and score == 10.0
    score, first, last = best_span(window, start, end, (7, 20))
    assert score == 9.0 and first == 15 and 16 <= last <= 20
    assert best_span(window, start, end, (100, 200))[0] == float("-inf")
    _, first, last = best_span(window, start, end, (0, 20), max_tokens=2)
    assert last - first <= 2


def test_compose_puts_the_headings_first_and_says_where_the_text_starts():
    context, offset = compose(" 报告 一、概况 ", "正文")
    assert context[offset:] == "正文" and context.startswith("报告 一、概况")
    assert compose("", "正文") == ("正文", 0)
