"""Shared fixtures: the seed report, the dev questions, one Assistant per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEV_GOLD = SHARED / "eval" / "dev.jsonl"
TEST_DATA = ROOT / "tests" / "data"

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
