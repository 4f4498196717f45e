"""The numpy decoder of jieba's part-of-speech HMM returns what jieba's own decoder returns."""

from __future__ import annotations

import importlib
import json
import random
import re
from pathlib import Path

import pytest

from qa.language import postags
from qa.language.textnorm import normalize
from qa.language.viterbi import ArrayViterbi

from conftest import TEST_DATA

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


@pytest.fixture(scope="module")
def tables():
    postags._tagger()
    posseg = importlib.import_module("jieba.posseg")
    return posseg.char_state_tab_P, posseg.start_P, posseg.trans_P, posseg.emit_P


def _jiebas_viterbi():
    return importlib.import_module("jieba.posseg.viterbi").viterbi  # the module, not the name posseg rebinds


def _runs(seed_report: Path) -> list[str]:
    """Every run of Chinese characters in the seed and the repo's questions, and random strings of
    their characters with some the HMM tables do not list."""
    texts = [seed_report.read_text(encoding="utf-8")]
    for path in sorted(TEST_DATA.glob("*.jsonl")):
        texts += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    runs = sorted({run for text in texts for run in _HAN_RUN.findall(normalize(text))})
    chars = "".join(runs) + "㐀㐁䶵龥"
    rng = random.Random(7)
    return runs + ["".join(rng.choice(chars) for _ in range(rng.randint(1, 12))) for _ in range(1500)]


def test_the_path_and_probability_are_jiebas(tables, seed_report: Path) -> None:
    decode = ArrayViterbi(*tables)
    reference = _jiebas_viterbi()
    runs = _runs(seed_report)
    assert len(runs) > 2000
    differing = [run for run in runs if decode(run, *tables) != reference(run, *tables)]
    assert differing == []


def test_the_tagger_decodes_with_it(tables) -> None:
    assert isinstance(importlib.import_module("jieba.posseg").viterbi, ArrayViterbi)
    text = "局长、支部书记赵金生在凤岗办事处讲话，孙悦棠和戴柯宇去了厦门"
    ours = list(postags._tagger().cut(text))
    posseg = importlib.import_module("jieba.posseg")
    decoder, posseg.viterbi = posseg.viterbi, _jiebas_viterbi()
    try:
        theirs = list(postags._tagger().cut(text))
    finally:
        posseg.viterbi = decoder
    assert ours == theirs and any(pair.flag == "nr" for pair in ours)


def test_other_tables_are_refused(tables) -> None:
    decode = ArrayViterbi(*tables)
    with pytest.raises(ValueError):
        decode("凤岗", {}, *tables[1:])
