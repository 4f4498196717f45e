"""Query batching: a lone query is encoded at once in its own thread; queries asked during an
encode share the next pass; errors reach every caller."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from embeddings.batching import QueryBatcher


class RecordingEncoder:
    """Encodes a text as [len(text)], records each call's texts and thread, and can hold a call
    until released."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.fail = False

    def __call__(self, texts):
        self.calls.append((list(texts), threading.current_thread().name))
        self.entered.set()
        self.release.wait(10)
        if self.fail:
            raise RuntimeError("encoder failed")
        return np.array([[float(len(text))] for text in texts], dtype=np.float32)


def _ask_in_threads(batcher: QueryBatcher, texts: list[str]) -> tuple[list[threading.Thread], dict]:
    results: dict[str, object] = {}

    def ask(text: str) -> None:
        try:
            results[text] = float(batcher.encode(text)[0])
        except RuntimeError as error:
            results[text] = error

    threads = [threading.Thread(target=ask, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    return threads, results


def _wait_until(condition) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_lone_query_is_encoded_at_once_in_the_asking_thread() -> None:
    encoder = RecordingEncoder()
    batcher = QueryBatcher(encoder)
    assert float(batcher.encode("凤岗办事处")[0]) == 5.0
    assert encoder.calls == [(["凤岗办事处"], threading.current_thread().name)]
    assert batcher.batch_sizes == {1: 1}


def test_queries_asked_during_an_encode_share_the_next_pass() -> None:
    encoder = RecordingEncoder()
    batcher = QueryBatcher(encoder)
    encoder.release.clear()
    first, first_result = _ask_in_threads(batcher, ["a"])
    assert encoder.entered.wait(10)
    others, results = _ask_in_threads(batcher, ["bb", "ccc", "dddd"])
    _wait_until(lambda: batcher._waiting == 3)  # all three wait behind the first encode
    encoder.release.set()
    for thread in first + others:
        thread.join(10)
    assert first_result == {"a": 1.0} and results == {"bb": 2.0, "ccc": 3.0, "dddd": 4.0}
    assert len(encoder.calls) == 2
    texts, thread_name = encoder.calls[1]
    assert sorted(texts) == ["bb", "ccc", "dddd"] and thread_name == "query-batcher"
    assert batcher.batch_sizes == {1: 1, 3: 1}


def test_an_error_reaches_every_caller_and_the_batcher_goes_on() -> None:
    encoder = RecordingEncoder()
    batcher = QueryBatcher(encoder)
    encoder.fail = True
    with pytest.raises(RuntimeError):
        batcher.encode("lone")
    encoder.entered.clear()
    encoder.release.clear()
    first, first_result = _ask_in_threads(batcher, ["a"])
    assert encoder.entered.wait(10)
    others, results = _ask_in_threads(batcher, ["bb", "ccc"])
    _wait_until(lambda: batcher._waiting == 2)
    encoder.release.set()
    for thread in first + others:
        thread.join(10)
    assert all(isinstance(value, RuntimeError) for value in [*first_result.values(), *results.values()])
    encoder.fail = False
    assert float(batcher.encode("again")[0]) == 5.0
