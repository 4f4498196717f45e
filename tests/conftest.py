"""Shared fixtures: the seed report, the dev questions, one Assistant per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEV_GOLD = SHARED / "eval" / "dev.jsonl"
TEST_DATA = ROOT / "tests" / "data"

CONTRACT_KEYS = {"question", "answered", "passages"}
PASSAGE_KEYS = {"rank", "score", "text", "citation", "highlights"}
CITATION_KEYS = {"document", "section", "subsection", "paragraph", "start", "end", "label"}

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def seed_report() -> Path:
    return next((ROOT / "seeds").glob("*.txt"))


@pytest.fixture(scope="session")
def assistant():
    """The default Assistant (hybrid retrieval) over the seed report, loaded once."""
    from qa import Assistant

    return Assistant()


def assert_contract(answer: dict, document_text: str) -> None:
    """The contract JSON object: keys, verbatim passages at their offsets, highlights, order."""
    assert CONTRACT_KEYS <= answer.keys()
    assert isinstance(answer["question"], str) and answer["question"].strip()
    assert isinstance(answer["answered"], bool)
    assert isinstance(answer["passages"], list)
    for rank, passage in enumerate(answer["passages"], start=1):
        assert PASSAGE_KEYS <= passage.keys()
        assert passage["rank"] == rank
        assert isinstance(passage["score"], (int, float))
        citation = passage["citation"]
        assert CITATION_KEYS <= citation.keys()
        assert document_text[citation["start"]:citation["end"]] == passage["text"]
        assert len(passage["highlights"]) <= 2
        for highlight in passage["highlights"]:
            assert passage["text"][highlight["start"]:highlight["end"]] == highlight["text"]
    scores = [p["score"] for p in answer["passages"]]
    assert scores == sorted(scores, reverse=True)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Test processes share 2 cores; oversubscribed, torch's OpenMP threads run many times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
