"""The trimmed tokenizer gives exactly the full tokenizer's ids: on every report passage and
test question, on random text of the kept scripts, and, through the fallback, on text outside
them; a missing, stale or damaged trimmed file is built again."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from conftest import DEV_GOLD, LIBRARY_DATA, ROOT, TEST_DATA
from embeddings import resolve_model
from embeddings.trimmed_tokenizer import TRIMMED_TOKENIZER, TokenIds, load_trimmed
from qa.documents.ingest import read_report
from qa.documents.passages import passage_text

MAX_LENGTH = 512
OUTSIDE = ["query: Сколько сотрудников в Фэнгане?", "passage: 東京の事務所には88人の職員がいます", "ꙮ", "<s> 凤岗 <mask> Ελλάδα"]


def _configured(tokenizer: Tokenizer) -> Tokenizer:
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_LENGTH)
    return tokenizer


@pytest.fixture(scope="module")
def folder() -> Path:
    return Path(resolve_model(None))


@pytest.fixture(scope="module")
def full(folder: Path) -> Tokenizer:
    return _configured(Tokenizer.from_file(str(folder / "tokenizer.json")))


@pytest.fixture(scope="module")
def tokens(folder: Path, full: Tokenizer) -> TokenIds:
    trimmed, original_ids = load_trimmed(folder)
    return TokenIds(lambda: full, _configured(trimmed), original_ids)


def _passages() -> list[str]:
    reports = [ROOT / "seeds", *LIBRARY_DATA.iterdir(), *TEST_DATA.glob("*.txt"), *TEST_DATA.glob("*.md")]
    return ["passage: " + passage_text(document, paragraph)
            for document in map(read_report, reports) for paragraph in document.paragraphs]


def _questions() -> list[str]:
    lines = [line for path in [DEV_GOLD, *TEST_DATA.glob("*.jsonl")] for line in path.read_text(encoding="utf-8").splitlines()]
    return ["query: " + json.loads(line)["question"] for line in lines if line.strip()]


def _assert_same_ids(tokens: TokenIds, full: Tokenizer, texts: list[str]) -> None:
    ours = tokens.encode(texts)
    for text, ids, expected in zip(texts, ours, full.encode_batch(texts), strict=True):
        assert ids.tolist() == expected.ids, text


def test_reports_and_questions_get_the_full_ids(tokens, full):
    texts = _passages() + _questions()
    assert len(texts) > 500
    assert all(tokens.covers(text) for text in texts)  # none of them needs the full tokenizer
    _assert_same_ids(tokens, full, texts)
    _assert_same_ids(tokens, full, ["", " ", "  leading", "tab\tand\r\nnewlines", "ＡＢＣ全角１２３　～", "长文本" * 400])


def test_random_text_of_the_kept_scripts_gets_the_full_ids(tokens, full):
    report = read_report(ROOT / "seeds").text
    alphabet = sorted(set(report)) + list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?'\"()-/%") + list("éüñāǎ—…·×℃①→≥■。，、《》“”（）　")
    generator = random.Random(7)
    texts = ["".join(generator.choices(alphabet, k=generator.randint(1, 80))) for _ in range(3000)]
    texts += [report[at:at + generator.randint(1, 300)] for at in generator.sample(range(len(report)), 1000)]
    assert all(tokens.covers(text) for text in texts)
    _assert_same_ids(tokens, full, texts)


def test_text_outside_the_kept_scripts_falls_back_to_the_full_tokenizer(tokens, full):
    assert not any(tokens.covers(text) for text in OUTSIDE)
    _assert_same_ids(tokens, full, OUTSIDE)
    _assert_same_ids(tokens, full, ["query: 凤岗办事处有多少名员工？", *OUTSIDE])  # a mixed batch
    assert tokens.token_to_id("<pad>") == full.token_to_id("<pad>")


@pytest.mark.parametrize("damage", ["missing", "garbage", "stale"])
def test_a_bad_trimmed_file_is_built_again(folder, tmp_path, damage):
    """A copy of the prepared folder (files linked) whose trimmed tokenizer is missing, garbage or stale."""
    copy = tmp_path / folder.name
    (copy / TRIMMED_TOKENIZER).parent.mkdir(parents=True)
    (copy / "tokenizer.json").symlink_to(folder / "tokenizer.json")
    target = copy / TRIMMED_TOKENIZER
    if damage == "garbage":
        target.write_bytes(b"not a trimmed tokenizer")
    elif damage == "stale":  # built with other ranges
        with np.load(folder / TRIMMED_TOKENIZER) as saved:
            np.savez(target, **{**saved, "stamp": np.frombuffer(b'{"version": 0}', dtype=np.uint8)})
    trimmed, original_ids = load_trimmed(copy)
    expected, expected_ids = load_trimmed(folder)
    assert original_ids.tolist() == expected_ids.tolist()
    assert trimmed.encode("凤岗办事处").ids == expected.encode("凤岗办事处").ids
