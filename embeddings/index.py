"""A persisted exact inner-product index of passage vectors (FAISS `IndexFlatIP`).

On disk: `vectors.faiss` and `manifest.json` (model, dimension, count, corpus hash, format
version, checksum of the faiss file). Files are replaced atomically, index first and manifest
last; a manifest that does not describe the index file beside it marks the index as damaged.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock

from embeddings.encoder import Encoder

FORMAT_VERSION = 1
INDEX_FILE = "vectors.faiss"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
TEMP_SUFFIX = ".tmp"


class IndexUnusable(Exception):
    """The persisted index is missing, damaged or stale; the message is the reason."""


def print_to_stderr(message: str) -> None:
    """Default `log` of `VectorIndex.load_or_build`."""
    print(message, file=sys.stderr, flush=True)


def corpus_hash(passages: Sequence[str]) -> str:
    """sha256 of the passages joined by NUL."""
    return hashlib.sha256("\0".join(passages).encode("utf-8")).hexdigest()


class VectorIndex:
    """Passage vectors in a FAISS `IndexFlatIP` plus the manifest that identifies them."""

    def __init__(self, index: faiss.Index, manifest: dict) -> None:
        self.index = index
        self.manifest = manifest

    def __len__(self) -> int:
        return self.index.ntotal

    @classmethod
    def build(cls, encoder: Encoder, passages: Sequence[str], *, progress: bool = False) -> VectorIndex:
        """Encode `passages` and index them by position."""
        vectors = encoder.encode_passages(passages, progress=progress)
        index = faiss.IndexFlatIP(encoder.dim)
        index.add(vectors)
        manifest = {
            "format_version": FORMAT_VERSION,
            "model_id": encoder.model_id,
            "dim": encoder.dim,
            "count": len(passages),
            "corpus_hash": corpus_hash(passages),
        }
        return cls(index, manifest)

    def save(self, directory: Path) -> None:
        """Write `vectors.faiss`, then `manifest.json` with its checksum; each atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        data = faiss.serialize_index(self.index).tobytes()
        manifest = dict(self.manifest, faiss_sha256=hashlib.sha256(data).hexdigest())
        _atomic_write(directory / INDEX_FILE, data)
        _atomic_write(directory / MANIFEST_FILE, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))

    @classmethod
    def load(cls, directory: Path) -> VectorIndex:
        """Read a saved index; raise IndexUnusable if it is missing or damaged."""
        directory = Path(directory)
        if not (directory / MANIFEST_FILE).exists():
            raise IndexUnusable("manifest missing" if (directory / INDEX_FILE).exists() else "no index yet")
        try:
            manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
            data = (directory / INDEX_FILE).read_bytes()
        except FileNotFoundError:
            raise IndexUnusable("index file missing") from None
        except (OSError, ValueError):
            raise IndexUnusable("manifest unreadable") from None
        if not isinstance(manifest, dict):
            raise IndexUnusable("manifest unreadable")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexUnusable("format changed")
        if hashlib.sha256(data).hexdigest() != manifest.get("faiss_sha256"):
            raise IndexUnusable("index file damaged")
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        if index.ntotal != manifest.get("count") or index.d != manifest.get("dim"):
            raise IndexUnusable("index does not match its manifest")
        return cls(index, manifest)

    @classmethod
    def load_or_build(
        cls,
        directory: Path,
        encoder: Encoder,
        passages: Sequence[str],
        *,
        progress: bool = False,
        log: Callable[[str], None] = print_to_stderr,
    ) -> VectorIndex:
        """Load the index in `directory` if it is intact and current, else rebuild and save it.

        The rebuild runs under `directory/.lock`; a process that waited for the lock reuses
        what the first one wrote.
        """
        directory = Path(directory)
        expected = {"model_id": encoder.model_id, "dim": encoder.dim, "corpus_hash": corpus_hash(passages)}
        try:
            return cls._load_current(directory, expected)
        except IndexUnusable:
            pass
        if directory.exists() and not directory.is_dir():
            log(f"report-qa: rebuilding vector index (reason: {directory} was a file, not a folder)")
            directory.unlink()
        directory.mkdir(parents=True, exist_ok=True)
        with FileLock(str(directory / LOCK_FILE)):
            try:
                return cls._load_current(directory, expected)
            except IndexUnusable as reason:
                verb = "building" if str(reason) == "no index yet" else "rebuilding"
                log(f"report-qa: {verb} vector index (reason: {reason})")
            _remove_temp_files(directory)
            index = cls.build(encoder, passages, progress=progress)
            index.save(directory)
            return index

    @classmethod
    def _load_current(cls, directory: Path, expected: dict) -> VectorIndex:
        index = cls.load(directory)
        if index.manifest.get("model_id") != expected["model_id"]:
            raise IndexUnusable("model changed")
        if index.manifest.get("dim") != expected["dim"]:
            raise IndexUnusable("dimension changed")
        if index.manifest.get("corpus_hash") != expected["corpus_hash"]:
            raise IndexUnusable("corpus changed")
        return index

    def search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n_queries, min(k, len(self))), best first."""
        queries = np.ascontiguousarray(np.atleast_2d(query_vectors), dtype=np.float32)
        k = min(k, self.index.ntotal)
        if k <= 0:
            return np.empty((len(queries), 0), dtype=np.float32), np.empty((len(queries), 0), dtype=np.int64)
        return self.index.search(queries, k)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temp file beside `path`, fsync, then `os.replace` it over `path`."""
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX, delete=False)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    directory_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def _remove_temp_files(directory: Path) -> None:
    """Delete temp files a killed writer left behind (call with the lock held)."""
    for name in (INDEX_FILE, MANIFEST_FILE):
        for leftover in directory.glob(f".{name}.*{TEMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)
