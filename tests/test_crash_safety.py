"""The persisted vectors survive a killed indexer, concurrent indexers and damage.

Each test uses a fresh ``REPORT_QA_HOME`` whose ``models/`` is a symlink to the prepared model
(``make test`` prepares it first), so only the index is built. To kill the indexer *while it
writes*, the indexer runs with ``os.fsync`` slowed down: the temp file then sits on disk, fully
written but not yet renamed, long enough to be seen and SIGKILLed. No latency is asserted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, home_sharing_the_model

SEED_QUESTION = "凤岗办事处有多少名员工？"
SEED_EVIDENCE = "现有员工88人"
REBUILD_LINE = re.compile(r"^report-qa: (re-)?encoding \S+ \(\d+ (?:passages|sentences); reason: [^)]+\)$")
WAIT_S = 900  # generous: other work on a 2-core machine can slow a model load a lot
FSYNC_DELAY_S = 5  # long enough to kill the indexer inside a write, short enough not to wait on it

# The indexer, with os.fsync optionally slowed by CRASH_TEST_FSYNC_DELAY seconds.
INDEXER = """
import os, sys, time
delay = float(os.environ.get("CRASH_TEST_FSYNC_DELAY") or 0)
if delay:
    real_fsync = os.fsync
    def slow_fsync(fd):
        time.sleep(delay)
        real_fsync(fd)
    os.fsync = slow_fsync
from qa.cli import main
sys.exit(main(["index"]))
"""


@pytest.fixture(scope="module")
def model_dir() -> Path:
    from embeddings import resolve_model

    return Path(resolve_model(None))


@pytest.fixture(scope="module")
def index_name(model_dir: Path) -> str:
    """The vector folder of the default model, relative to ``$REPORT_QA_HOME/index/``."""
    from embeddings.models import model_identity
    from embeddings.vector_store import store_directory

    return store_directory(Path("/"), model_identity(str(model_dir))).name


@pytest.fixture(scope="module")
def seed_key(seed_report: Path, model_dir: Path) -> str:
    """The name of the seed report's vector files in that folder."""
    from embeddings.models import model_identity
    from embeddings.vector_store import VectorStore
    from qa.documents.cache import prepare

    from qa import read_report

    model_id = model_identity(str(model_dir))
    return VectorStore(Path("/"), model_id).key(prepare(read_report(seed_report), "").passages)


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "REPORT_QA_HOME": str(home), "HF_HUB_OFFLINE": "1", **extra}


def start_indexer(home: Path, fsync_delay: float = 0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", INDEXER], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env_for(home, CRASH_TEST_FSYNC_DELAY=str(fsync_delay)),
    )


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=WAIT_S)
    return process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def run_index(home: Path) -> tuple[int, str, str]:
    return finish(start_indexer(home))


def ask(home: Path) -> tuple[int, str, str]:
    result = subprocess.run([sys.executable, "-m", "qa.cli", "ask", SEED_QUESTION, "--json"], cwd=ROOT,
                            capture_output=True, timeout=WAIT_S, env=env_for(home))
    return result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8", "replace")


def kill_when(process: subprocess.Popen, seen, after_s: float = 0.0) -> None:
    """SIGKILL ``process`` ``after_s`` seconds after ``seen()`` first holds; fail if it exits first."""
    deadline = time.monotonic() + WAIT_S
    while not seen():
        if process.poll() is not None:
            _, _, err = finish(process)
            pytest.fail(f"the indexer ended (exit {process.returncode}) before the kill point: {err[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the kill point never came")
        time.sleep(0.002)
    time.sleep(after_s)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def assert_index_intact(directory: Path) -> dict:
    """Every document's vectors load, their sidecars are valid JSON describing them, and no temp file is left."""
    from embeddings.vector_store import VectorStore

    sidecars = sorted(directory.glob("*.json"))
    assert sidecars
    for sidecar in sidecars:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        assert isinstance(meta, dict) and meta.get("count", 0) > 0
        vectors = VectorStore(directory, meta["model_id"]).load(sidecar.stem, meta["count"])
        assert vectors.shape == (meta["count"], meta["dim"])
    assert not [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]
    return meta


def assert_answers_after_rebuild(home: Path, index_dir: Path, expect_rebuild: bool = True) -> None:
    code, out, err = ask(home)
    assert "Traceback" not in err, err
    assert code == 0, err
    answer = json.loads(out)
    assert answer["answered"] is True
    assert SEED_EVIDENCE in answer["passages"][0]["text"]
    lines = [line for line in err.splitlines() if line.strip()]
    if expect_rebuild:  # the passages, and the sentences when the kill came before them
        assert 1 <= len(lines) <= 2 and all(REBUILD_LINE.match(line) for line in lines), err
        assert "passages;" in lines[0], err
    else:
        assert lines == [], err
    assert_index_intact(index_dir)
    if expect_rebuild:  # the repair was persisted: the next run just loads it
        code, _, err = ask(home)
        assert code == 0 and not err.strip(), err


def _temp_file(directory: Path, name: str):
    return lambda: any(directory.glob(f".{name}.*.tmp"))


KILL_POINTS = {
    # name: (fsync delay, what to wait for, seconds after it)
    "while-encoding": (0, lambda d, key: (d / ".lock").exists(), 0.5),
    "while-writing-vectors": (FSYNC_DELAY_S, lambda d, key: _temp_file(d, f"{key}.npy")(), 0.0),
    "vectors-written-sidecar-not": (FSYNC_DELAY_S, lambda d, key: _temp_file(d, f"{key}.json")(), 0.0),
}


@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
def test_killed_indexer_is_detected_and_rebuilt(tmp_path: Path, model_dir: Path, index_name: str, seed_key: str,
                                                kill_point: str) -> None:
    home = home_sharing_the_model(tmp_path / "home")
    index_dir = home / "index" / index_name
    delay, condition, after = KILL_POINTS[kill_point]
    indexer = start_indexer(home, fsync_delay=delay)
    kill_when(indexer, lambda: condition(index_dir, seed_key), after)
    assert not (index_dir / f"{seed_key}.json").exists()
    assert_answers_after_rebuild(home, index_dir)


def test_killed_rewrite_over_damaged_vectors_is_redone(tmp_path: Path, model_dir: Path, index_name: str,
                                                       seed_key: str) -> None:
    """Damaged vectors are being replaced when the writer dies between the two files."""
    home = home_sharing_the_model(tmp_path / "home")
    index_dir = home / "index" / index_name
    code, _, err = run_index(home)
    assert code == 0, err
    sidecar = index_dir / f"{seed_key}.json"
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text(encoding="utf-8")), "sha256": "0" * 64}),
                       encoding="utf-8")
    indexer = start_indexer(home, fsync_delay=FSYNC_DELAY_S)
    kill_when(indexer, _temp_file(index_dir, f"{seed_key}.json"))
    assert_answers_after_rebuild(home, index_dir)


def test_concurrent_indexers_do_not_corrupt_the_index(tmp_path: Path, model_dir: Path, index_name: str) -> None:
    home = home_sharing_the_model(tmp_path / "home")
    index_dir = home / "index" / index_name
    first, second = start_indexer(home, fsync_delay=1), start_indexer(home, fsync_delay=1)
    results = [finish(first), finish(second)]
    for code, out, err in results:
        assert "Traceback" not in err, err
        assert code == 0, err
        assert "index ready" in out
    build_lines = [line for _, _, err in results for line in err.splitlines() if REBUILD_LINE.match(line)]
    # the second waited for the lock and reused what the first encoded: passages and sentences once each
    assert sorted(line.split("(")[1].split()[1] for line in build_lines) == ["passages;", "sentences;"], build_lines
    meta = assert_index_intact(index_dir)
    assert meta["sha256"]
    assert_answers_after_rebuild(home, index_dir, expect_rebuild=False)


@pytest.fixture(scope="module")
def built_home(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Path:
    home = home_sharing_the_model(tmp_path_factory.mktemp("template") / "home")
    code, _, err = run_index(home)
    assert code == 0, err
    return home


def copy_home(built_home: Path, home: Path) -> None:
    """Copy a built home as it is: manifests name the model, not the home's path."""
    shutil.copytree(built_home, home, symlinks=True)


DAMAGE = {
    "sidecar-garbage": lambda d, k: (d / f"{k}.json").write_bytes(b"\x00\xff{not json"),
    "sidecar-a-list": lambda d, k: (d / f"{k}.json").write_text("[1, 2, 3]"),
    "vectors-truncated": lambda d, k: (d / f"{k}.npy").write_bytes((d / f"{k}.npy").read_bytes()[:1000]),
    "vectors-deleted": lambda d, k: (d / f"{k}.npy").unlink(),
    "folder-is-a-file": lambda d, k: (shutil.rmtree(d), d.write_text("x")),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_index_is_repaired_on_the_next_run(tmp_path: Path, built_home: Path, model_dir: Path, index_name: str,
                                                   seed_key: str, damage: str) -> None:
    home = tmp_path / "home"
    copy_home(built_home, home)
    index_dir = home / "index" / index_name
    DAMAGE[damage](index_dir, seed_key)
    if damage == "folder-is-a-file":
        code, _, err = ask(home)
        assert "Traceback" not in err, err
        assert code in (0, 2), err
        if code == 2:
            assert len(err.strip().splitlines()) == 1 and err.startswith("report-qa: error: ")
        return
    assert_answers_after_rebuild(home, index_dir)


def test_leftover_lock_and_temp_files_do_not_force_a_rebuild(tmp_path: Path, built_home: Path, model_dir: Path,
                                                             index_name: str) -> None:
    home = tmp_path / "home"
    copy_home(built_home, home)
    index_dir = home / "index" / index_name
    (index_dir / ".lock").write_bytes(b"stale lock from a dead process")
    (index_dir / ".0123abcd.npy.abc123.tmp").write_bytes(b"half a file")
    code, out, err = ask(home)
    assert code == 0 and "Traceback" not in err and not err.strip(), err
    assert SEED_EVIDENCE in json.loads(out)["passages"][0]["text"]
