"""Cached per-process tables: built once from their source, reused, rebuilt when stale or damaged."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.language.resources import CACHE_DIR, cached, marshal_dicts, stable_hash

from conftest import ROOT


def test_a_table_is_built_once_and_rebuilt_when_its_source_changes_or_it_is_damaged(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REPORT_QA_HOME", str(tmp_path / "home"))
    source = tmp_path / "words.txt"
    source.write_text("甲 n\n乙 v\n", encoding="utf-8")
    builds: list[int] = []

    def build() -> dict[str, str]:
        builds.append(1)
        return dict(line.split() for line in source.read_text(encoding="utf-8").splitlines())

    def table() -> dict[str, str]:
        return cached("words", source, build, marshal.dumps, marshal.loads)

    assert table() == {"甲": "n", "乙": "v"} and len(builds) == 1
    assert table() == {"甲": "n", "乙": "v"} and len(builds) == 1
    source.write_text("甲 n\n乙 v\n丙 a\n", encoding="utf-8")
    assert table()["丙"] == "a" and len(builds) == 2
    entry = tmp_path / "home" / CACHE_DIR / "words.bin"
    entry.write_bytes(entry.read_bytes()[:-5])
    assert table() == {"甲": "n", "乙": "v", "丙": "a"} and len(builds) == 3


def test_stable_hash_is_the_same_in_another_process() -> None:
    code = "from qa.language.resources import stable_hash; print(stable_hash('凤岗办事处'))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert int(other.stdout) == stable_hash("凤岗办事处") != stable_hash("凤岗办事")


WORD_TAGS_CHECK = """
import importlib.util
import pathlib
import sys

from qa.language import postags
from qa.language.textnorm import base_jieba

tagger = postags._tagger()
import jieba.posseg

fresh = jieba.posseg.POSTokenizer(base_jieba())  # word tags read from jieba's dictionary file
assert tagger is jieba.posseg.dt and tagger.word_tag_tab == fresh.word_tag_tab
dictionary_words = {id(word) for word in base_jieba().FREQ}
assert all(id(word) in dictionary_words for word in tagger.word_tag_tab)  # no second copy of the words
for name in postags._HMM_TABLES:  # read from jieba's pickles: the tables its Python modules spell out
    spec = importlib.util.spec_from_file_location(name, pathlib.Path(jieba.posseg.__file__).with_name(f"{name}.py"))
    spelled = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(spelled)
    assert sys.modules[f"jieba.posseg.{name}"].P == spelled.P, name
emissions = sys.modules["jieba.posseg.prob_emit"].P
chars = {}
for row in emissions.values():
    for char in row:
        assert chars.setdefault(char, char) is char  # one object a character, whichever state emits it
text = "局长、支部书记赵金生在凤岗办事处讲话，Hello AT&T 2011年，孙悦棠和戴柯宇"
assert list(tagger.cut(text)) == list(fresh.cut(text)) == list(jieba.posseg.cut(text))
print("ok")
"""


def test_word_tags_are_jiebas_keyed_by_its_dictionary_words(tmp_path: Path) -> None:
    env = {**os.environ, "REPORT_QA_HOME": str(tmp_path)}
    for _ in ("built", "from the cache"):
        run = subprocess.run([sys.executable, "-c", WORD_TAGS_CHECK], cwd=ROOT, env=env, capture_output=True, text=True)
        assert run.stdout.strip() == "ok", run.stderr[-2000:]


def test_word_tags_saved_for_another_dictionary_order_are_refused() -> None:
    from qa.language.postags import _dump_tags, _load_tags

    words = {"甲": 1, "乙": 2}
    data = _dump_tags(words, {"甲": "n", "乙": "v"})
    assert _load_tags(words, data) == {"甲": "n", "乙": "v"}
    with pytest.raises(ValueError):
        _load_tags({"乙": 2, "甲": 1}, data)


def test_marshal_dicts_reads_its_tables_and_refuses_another_shape() -> None:
    word = "凤岗"
    first, second = marshal_dicts(marshal.dumps(({word: 1}, {2: word})), 2)
    assert first == {"凤岗": 1} and next(iter(first)) is second[2]  # one object, as saved
    for other in (marshal.dumps(({},)), marshal.dumps([{}, {}]), marshal.dumps(({}, "x"))):
        with pytest.raises(ValueError):
            marshal_dicts(other, 2)

