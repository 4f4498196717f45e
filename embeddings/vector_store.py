"""Passage vectors kept on disk per document, keyed by content, so only new text is encoded.

A document's vectors live in ``<directory>/<key>.npy`` with a sidecar ``<key>.json`` (model,
dimension, count, checksum of the ``.npy`` file). The key is the sha256 of the model identity
and the document's indexed passages: a changed document gets a new key, an unchanged one is
found again wherever its file lives. Files are replaced atomically, vectors first and the
sidecar last; a sidecar that does not describe the file beside it marks that document's
vectors as damaged, and only that document is encoded again.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock

from embeddings.home import TEMP_SUFFIX, atomic_write

if TYPE_CHECKING:
    from embeddings.encoder import Encoder

FORMAT_VERSION = 2
LOCK_FILE = ".lock"


class VectorsUnusable(Exception):
    """A document's stored vectors are missing, damaged or stale; the message is the reason."""


def print_to_stderr(message: str) -> None:
    """Default ``log`` of :meth:`VectorStore.sync`."""
    print(message, file=sys.stderr, flush=True)


def store_directory(home: Path, model_id: str) -> Path:
    """The folder holding one model's vectors under ``home/index/``."""
    return Path(home) / "index" / re.sub(r"[^\w.-]+", "_", model_id)


class VectorStore:
    """Per-document passage vectors of one encoder model, on disk.

    Args:
        directory: the model's folder (see :func:`store_directory`).
        model_id: the encoder's identity, part of every key.
        dim: the encoder's vector dimension (None: whatever the stored vectors have).
        unit: what one text of a document is, in the notices (passages, sentences).
    """

    def __init__(self, directory: Path, model_id: str, dim: int | None = None, unit: str = "passages") -> None:
        self.directory = Path(directory)
        self.model_id = model_id
        self.dim = dim
        self.unit = unit

    def key(self, passages: Sequence[str]) -> str:
        """Content key of a document's passages for this model."""
        digest = hashlib.sha256(self.model_id.encode("utf-8"))
        for passage in passages:
            digest.update(b"\0" + passage.encode("utf-8"))
        return digest.hexdigest()

    def has(self, passages: Sequence[str]) -> bool:
        """Whether intact vectors of these passages are stored (reads the sidecar and file)."""
        try:
            self.load(self.key(passages), len(passages))
        except VectorsUnusable:
            return False
        return True

    def load(self, key: str, count: int) -> np.ndarray:
        """The stored (count, dim) vectors under ``key``; raises :class:`VectorsUnusable`."""
        sidecar, data_path = self.directory / f"{key}.json", self.directory / f"{key}.npy"
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            data = data_path.read_bytes()
        except FileNotFoundError:
            raise VectorsUnusable("not encoded yet") from None
        except (OSError, ValueError):
            raise VectorsUnusable("sidecar unreadable") from None
        if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
            raise VectorsUnusable("format changed")
        if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            raise VectorsUnusable("vector file damaged")
        try:
            vectors = np.load(io.BytesIO(data), allow_pickle=False)
        except ValueError:
            raise VectorsUnusable("vector file damaged") from None
        if meta.get("model_id") != self.model_id or vectors.shape != (count, self.dim or meta.get("dim")):
            raise VectorsUnusable("vectors do not match the document")
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def forget(self, passages: Sequence[str]) -> None:
        """Delete the stored vectors of these passages, if any."""
        key = self.key(passages)
        for suffix in (".json", ".npy"):  # the sidecar first: vectors without it are unusable
            (self.directory / f"{key}{suffix}").unlink(missing_ok=True)

    def save(self, key: str, vectors: np.ndarray) -> None:
        """Write ``<key>.npy`` then its sidecar, each atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
        data = buffer.getvalue()
        meta = {
            "format_version": FORMAT_VERSION,
            "model_id": self.model_id,
            "dim": self.dim,
            "count": len(vectors),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        atomic_write(self.directory / f"{key}.npy", data)
        atomic_write(self.directory / f"{key}.json", (json.dumps(meta) + "\n").encode("utf-8"))

    def sync(
        self,
        documents: Sequence[tuple[str, Sequence[str]]],
        encoder: Encoder,
        *,
        progress: bool = False,
        log: Callable[[str], None] = print_to_stderr,
    ) -> list[np.ndarray]:
        """Vectors of each ``(name, passages)`` document, encoding only those not stored intact.

        Encoding runs under ``directory/.lock``; a process that waited for the lock reuses what
        the first one wrote. Returns one (len(passages), dim) array per document, in order.
        """
        keys = [self.key(passages) for _, passages in documents]
        found: dict[int, np.ndarray] = {}
        missing: dict[int, str] = {}
        for i, (key, (_, passages)) in enumerate(zip(keys, documents)):
            try:
                found[i] = self.load(key, len(passages))
            except VectorsUnusable as reason:
                missing[i] = str(reason)
        if missing:
            self._repair_folder(log)
            with FileLock(str(self.directory / LOCK_FILE)):
                found.update(self._encode_missing(documents, keys, missing, encoder, progress, log))
        return [found[i] for i in range(len(documents))]

    def _repair_folder(self, log: Callable[[str], None]) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            log(f"report-qa: rebuilding vector index (reason: {self.directory} was a file, not a folder)")
            self.directory.unlink()
        self.directory.mkdir(parents=True, exist_ok=True)

    def _encode_missing(self, documents, keys, missing, encoder, progress, log) -> dict[int, np.ndarray]:
        """Encode, under the lock, the documents still missing once the lock is held."""
        done: dict[int, np.ndarray] = {}
        todo = []
        for i, reason in missing.items():
            try:
                done[i] = self.load(keys[i], len(documents[i][1]))
            except VectorsUnusable as still:
                todo.append(i)
                verb = "encoding" if str(still) == "not encoded yet" else "re-encoding"
                log(f"report-qa: {verb} {documents[i][0]} ({len(documents[i][1])} {self.unit}; reason: {still})")
        if not todo:
            return done
        _remove_temp_files(self.directory)
        passages = [p for i in todo for p in documents[i][1]]
        vectors = encoder.encode_passages(passages, progress=progress)
        position = 0
        for i in todo:
            count = len(documents[i][1])
            done[i] = vectors[position:position + count]
            position += count
            self.save(keys[i], done[i])
        return done


def _remove_temp_files(directory: Path) -> None:
    """Delete temp files a killed writer left behind (call with the lock held)."""
    for leftover in directory.glob(f".*{TEMP_SUFFIX}"):
        leftover.unlink(missing_ok=True)
