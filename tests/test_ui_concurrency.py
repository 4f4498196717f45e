"""Questions asked at once: from threads in one process and through the /ask API by 20 concurrent
gradio_client clients: complete, correct, never mixed up, the same as asked one at a time."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before gradio_client is imported: it must not contact the hub

from gradio_client import Client  # noqa: E402

from conftest import assert_contract, library_texts, running_app  # noqa: E402

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "dev.jsonl"
CLIENTS = 20
QUESTIONS_EACH = 5
DISTINCT_QUESTIONS = 25  # every client asks 5 different ones; clients overlap, answers must not
JOB_TIMEOUT_S = 30
TOTAL_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def url(assistant) -> Iterator[str]:
    with running_app(assistant) as url:
        yield url


def client(url: str) -> Client:
    return Client(url, analytics_enabled=False, verbose=False, download_files=False)


def check_contract(result: object, document_texts: dict[str, str]) -> dict:
    """Assert ``result`` is a complete contract object (a dict, or its JSON string) and return it."""
    answer = json.loads(result) if isinstance(result, str) else result
    assert isinstance(answer, dict) and "error" not in answer and answer["passages"]
    assert_contract(answer, document_texts)
    return answer


def same_passages(got: dict, want: dict) -> bool:
    """Same question, verdict and passages (text, citation, highlights); scores equal to 1e-3."""
    def key(answer: dict) -> list:
        return [(p["rank"], p["text"], p["citation"], p["highlights"]) for p in answer["passages"]]

    scores_close = all(
        abs(a["score"] - b["score"]) <= 1e-3 for a, b in zip(got["passages"], want["passages"])
    )
    return (got["question"], got["answered"], key(got)) == (want["question"], want["answered"], key(want)) and scores_close


def shared_passes(batcher) -> int:
    """Encoder passes so far that encoded more than one query."""
    return sum(passes for size, passes in batcher.batch_sizes.items() if size > 1)


def test_threads_asking_at_once_get_the_answers_given_one_at_a_time(assistant) -> None:
    questions = [json.loads(line)["question"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions += ["How many staff does the Fenggang office have?", "鳳崗辦事處有多少名員工？", "局长是谁？"]
    alone = {q: assistant.ask(q).to_dict() for q in questions}
    assistant.encoder._query_cache.cache_clear()  # every concurrent ask encodes again, in batches
    shared_before = shared_passes(assistant.encoder.batcher)
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda q: assistant.ask(q).to_dict(), questions * 2))
    for question, answer in zip(questions * 2, together):
        assert same_passages(answer, alone[question]), question
    assert shared_passes(assistant.encoder.batcher) > shared_before  # some encodes were shared


def test_twenty_clients_get_their_own_complete_answers(url, assistant) -> None:
    questions = [json.loads(line)["question"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = questions[:DISTINCT_QUESTIONS]
    plan = [[questions[(c * QUESTIONS_EACH + i) % len(questions)] for i in range(QUESTIONS_EACH)] for c in range(CLIENTS)]
    expected = {q: assistant.ask(q).to_dict() for q in {q for qs in plan for q in qs}}
    start = threading.Barrier(CLIENTS, timeout=TOTAL_TIMEOUT_S)

    def run(qs: list[str]) -> list[tuple[str, object]]:
        mine = client(url)
        start.wait()
        try:
            return [(q, mine.submit(q, api_name="/ask").result(timeout=JOB_TIMEOUT_S)) for q in qs]
        finally:
            mine.close()

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(run, qs) for qs in plan]
        results = [f.result(timeout=TOTAL_TIMEOUT_S) for f in futures]
    assert time.monotonic() - began < TOTAL_TIMEOUT_S

    for qs, replies in zip(plan, results):
        assert [q for q, _ in replies] == qs
        for q, reply in replies:
            got = check_contract(reply, library_texts(assistant))
            want = expected[q]
            assert got["passages"][0]["citation"] == want["passages"][0]["citation"]
            assert got["passages"][0]["text"] == want["passages"][0]["text"]
            assert same_passages(got, want), q


@pytest.mark.parametrize(
    "question",
    ["", " \t\n ", "\x00\x07\x1b", "问" * 5000],
)
def test_bad_questions_get_an_error_object(url, question) -> None:
    api = client(url)
    try:
        reply = api.submit(question, api_name="/ask").result(timeout=JOB_TIMEOUT_S)
    finally:
        api.close()
    answer = json.loads(reply) if isinstance(reply, str) else reply
    assert answer["answered"] is False and answer["passages"] == []
    assert isinstance(answer["error"], str) and answer["error"] and "\n" not in answer["error"]
    assert "Traceback" not in answer["error"]


def test_markup_in_a_question_is_returned_as_plain_data(url, assistant) -> None:
    payload = "<img src=x onerror=alert(1)><script>window.__xss=1</script>"
    api = client(url)
    try:
        reply = api.submit(payload, api_name="/ask").result(timeout=JOB_TIMEOUT_S)
    finally:
        api.close()
    answer = check_contract(reply, library_texts(assistant))
    assert answer["question"] == payload and same_passages(answer, assistant.ask(payload).to_dict())
