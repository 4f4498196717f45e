"""BM25 indexes saved on disk: found again for the same tokens, rebuilt when damaged, pruned."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from qa.language.textnorm import Tokenizer
from qa.retrieval import lexical_cache
from qa.retrieval.lexical import LexicalIndex, index_tokens
from qa.retrieval.lexical_cache import lexical_index, tokens_key

PASSAGES = ["凤岗办事处现有员工12名。", "厦门局设立了党员先锋岗。", "中国标准化研究院第六党支部有党员36名。"]
QUESTIONS = ["凤岗办事处有多少名员工", "先锋岗", "fenggang", "第六党支部"]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


@pytest.fixture(scope="module")
def tokens(tokenizer) -> list[list[str]]:
    return [index_tokens(tokenizer, p) for p in PASSAGES]


def _scores(index: LexicalIndex) -> list[np.ndarray]:
    return [index.scores(q) for q in QUESTIONS]


def _saved(home: Path) -> list[Path]:
    return sorted(p for p in (home / lexical_cache.CACHE_DIR).iterdir() if not p.name.startswith("."))


def test_the_same_tokens_load_the_saved_index(tmp_path, tokenizer, tokens, monkeypatch) -> None:
    built = lexical_index(tokens, tokenizer, tmp_path)
    assert [p.name for p in _saved(tmp_path)] == [tokens_key(tokens)]
    monkeypatch.setattr(LexicalIndex, "build", classmethod(lambda cls, *args: pytest.fail("indexed again")))
    loaded = lexical_index(tokens, tokenizer, tmp_path)
    assert loaded.size == len(PASSAGES)
    for ours, theirs in zip(_scores(loaded), _scores(built)):
        np.testing.assert_array_equal(ours, theirs)
    assert max(_scores(loaded)[0]) > 0


def test_a_damaged_index_is_built_again(tmp_path, tokenizer, tokens) -> None:
    expected = _scores(lexical_index(tokens, tokenizer, tmp_path))
    [saved] = _saved(tmp_path)
    for file in saved.iterdir():
        file.write_bytes(b"\x00garbage")
    rebuilt = lexical_index(tokens, tokenizer, tmp_path)
    for ours, theirs in zip(_scores(rebuilt), expected):
        np.testing.assert_array_equal(ours, theirs)
    reloaded = LexicalIndex.load(saved, tokenizer)  # saved again, whole
    assert reloaded.size == len(PASSAGES)


def test_an_index_of_other_tokens_is_not_taken(tmp_path, tokenizer, tokens) -> None:
    lexical_index(tokens, tokenizer, tmp_path)
    fewer = lexical_index(tokens[:2], tokenizer, tmp_path)
    assert fewer.size == 2
    assert tokens_key(tokens[:2]) != tokens_key(tokens)
    assert tokens_key([["凤岗", "办事处"]]) != tokens_key([["凤岗办事处"]])  # token boundaries count


def test_only_the_last_indexes_are_kept(tmp_path, tokenizer, tokens, monkeypatch) -> None:
    monkeypatch.setattr(lexical_cache, "KEPT", 2)
    for count in (1, 2, 3):
        lexical_index(tokens[:count], tokenizer, tmp_path)
        used = tmp_path / lexical_cache.CACHE_DIR / tokens_key(tokens[:count])
        os.utime(used, (1_000_000 * count, 1_000_000 * count))  # used in this order, whatever the clock's grain
    assert {p.name for p in _saved(tmp_path)} == {tokens_key(tokens[:2]), tokens_key(tokens)}


def test_an_unwritable_cache_still_answers(tmp_path, tokenizer, tokens) -> None:
    (tmp_path / lexical_cache.CACHE_DIR).parent.mkdir(parents=True)
    (tmp_path / lexical_cache.CACHE_DIR).write_text("not a folder")
    index = lexical_index(tokens, tokenizer, tmp_path)
    assert index.size == len(PASSAGES) and max(index.scores(QUESTIONS[0])) > 0
