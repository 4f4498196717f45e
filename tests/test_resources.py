"""Cached per-process tables: built once from their source, reused, rebuilt when stale or damaged."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path

from qa.resources import CACHE_DIR, cached, stable_hash

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
    code = "from qa.resources import stable_hash; print(stable_hash('凤岗办事处'))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert int(other.stdout) == stable_hash("凤岗办事处") != stable_hash("凤岗办事")
