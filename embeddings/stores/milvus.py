"""The Milvus store: a library's passages, vectors and BM25 index in Milvus (Lite file, server
or cluster), written incrementally and idempotently.

Sync compares each document's content key (see :meth:`StoredDocument.key`) with its marker in
``<collection>_docs`` and writes only added, changed and removed documents. A document is
written as: marker with an empty key, delete its rows by source, insert its rows, marker with
its key. A sync cut off anywhere leaves a marker that does not match, so the next sync writes
that document again from scratch: no duplicates, no orphans. Rows never exist without their
marker, so a document without one has nothing to delete (a first build writes without deletes). Vectors come from the per-document
vector cache of :mod:`embeddings.vector_store`, so a document is encoded once per model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embeddings.stores.base import Log, StoredDocument, StoredLibrary, StoredPassage, StoreError, vector_inputs
from embeddings.stores.milvus_schema import (
    MAX_NAME_BYTES,
    CollectionNames,
    collection_names,
    create_collections,
    document_id,
    fit,
    marker,
    passage_id,
    quote,
)
from embeddings.stores.milvus_search import MilvusCollection, milvus_errors
from embeddings.vector_store import VectorStore, store_directory

if TYPE_CHECKING:
    from embeddings.text_encoder import TextEncoder

CONNECT_TIMEOUT_S = 5.0
INSERT_BATCH = 256
MARKER_BATCH = 1000
# They log tracebacks and warnings; errors reach the user as one line. pymilvus configures its
# loggers when imported, so they are quietened after the import.
QUIET_LOGGERS = ("pymilvus", "pymilvus.milvus_client", "milvus_lite")


def connect(uri: str, target: str, home: Path, token: str | None = None) -> MilvusStore:
    """A Milvus store at ``target`` (a Milvus Lite ``.db`` path or a server URI); raises
    :class:`StoreError` when it cannot be reached or opened."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.getLogger("jieba").setLevel(logging.WARNING)  # Milvus Lite runs jieba in this process

    try:
        client = MilvusClient(uri=target, token=token or "", timeout=CONNECT_TIMEOUT_S)
    except MilvusException as error:
        if target.endswith(".db"):
            raise StoreError(f"cannot open the Milvus Lite store {target} (is another process using it?)") from None
        raise StoreError(f"cannot reach the Milvus store at {target}: {error.message}") from None
    return MilvusStore(client, uri, home)


class MilvusStore:
    """One Milvus database; each library has its own collections in it."""

    in_process = False

    def __init__(self, client: Any, uri: str, home: Path) -> None:
        self.client = client
        self.uri = uri
        self.home = Path(home)

    def sync(self, library: StoredLibrary, encoder: TextEncoder, *, progress: bool, log: Log) -> MilvusCollection:
        """Write the added and changed documents, remove the removed ones; the collection to search."""
        names = collection_names(library.roots, encoder.model_id, library.analyzer)
        with milvus_errors(self.uri):
            self.prepare(names, encoder.dim, library.analyzer)
            stored = self.markers(names)
            keys = {document.source: document.key(encoder.model_id) for document in library.documents}
            removed = sorted(set(stored) - set(keys))
            for source in removed:
                log(f"report-qa: removing {source} from {self.uri}")
                self._remove(names, source)
            todo = [document for document in library.documents if stored.get(document.source) != keys[document.source]]
            if todo:
                cache = VectorStore(store_directory(self.home, encoder.model_id), encoder.model_id, encoder.dim)
                vectors = cache.sync(vector_inputs(todo), encoder, progress=progress, log=log)
                for document, document_vectors in zip(todo, vectors):
                    log(f"report-qa: writing {document.source} to {self.uri} ({len(document.passages)} passages)")
                    self.write(names, document, keys[document.source], document_vectors, replace=document.source in stored)
            if todo or removed:
                self.flush(names)
        return MilvusCollection(self.client, names.passages, self.uri)

    def indexed(self, library: StoredLibrary, model_id: str) -> list[bool]:
        names = collection_names(library.roots, model_id, library.analyzer)
        with milvus_errors(self.uri):
            if not self.client.has_collection(names.markers):
                return [False] * len(library.documents)
            self.client.load_collection(names.markers)
            stored = self.markers(names)
        return [stored.get(document.source) == document.key(model_id) for document in library.documents]

    def write(self, names: CollectionNames, document: StoredDocument, key: str, vectors: np.ndarray,
              replace: bool) -> None:
        """Write one document's rows, its marker first emptied and last set to ``key``;
        ``replace``: it has a marker, so rows of it may be stored (they are deleted first)."""
        self.client.upsert(names.markers, [marker(document.source, "", len(document.passages))])
        if replace:
            self.client.delete(names.passages, filter=f"source == {quote(document.source)}")
        rows = [_row(document, *row) for row in zip(document.passages, document.lexical(), vectors)]
        for start in range(0, len(rows), INSERT_BATCH):
            self.client.insert(names.passages, rows[start:start + INSERT_BATCH])
        self.client.upsert(names.markers, [marker(document.source, key, len(rows))])

    def flush(self, names: CollectionNames) -> None:
        """Seal what was written, so searches read indexed segments (Milvus Lite re-indexes
        unsealed rows at every search)."""
        self.client.flush(names.passages)

    def _remove(self, names: CollectionNames, source: str) -> None:
        """Delete a document's rows, then its marker."""
        self.client.delete(names.passages, filter=f"source == {quote(source)}")
        self.client.delete(names.markers, ids=[document_id(source)])

    def prepare(self, names: CollectionNames, dim: int, analyzer: dict[str, Any]) -> None:
        """Create the collections if missing (markers without their passages are dropped too), and load them."""
        if not self.client.has_collection(names.passages):
            if self.client.has_collection(names.markers):
                self.client.drop_collection(names.markers)
            create_collections(self.client, names, dim, analyzer)
        self.client.load_collection(names.passages)
        self.client.load_collection(names.markers)

    def markers(self, names: CollectionNames) -> dict[str, str]:
        """Source -> key of every document marker (empty key: its rows are incomplete)."""
        found = {}
        for batch in _query_all(self.client, names.markers, ["source", "key"]):
            found.update((row["source"], row["key"]) for row in batch)
        return found


def _query_all(client: Any, collection: str, fields: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
    iterator = client.query_iterator(collection, batch_size=MARKER_BATCH, filter="", output_fields=list(fields))
    try:
        while batch := iterator.next():
            yield batch
    finally:
        iterator.close()


def _row(document: StoredDocument, passage: StoredPassage, lexical: str, vector: np.ndarray) -> dict[str, Any]:
    return {
        "id": passage_id(document.source, passage.position),
        "source": document.source,
        "title": fit(document.title, MAX_NAME_BYTES),
        "section": fit(passage.section, MAX_NAME_BYTES),
        "subsection": fit(passage.subsection, MAX_NAME_BYTES),
        "paragraph": passage.paragraph,
        "position": passage.position,
        "start": passage.start,
        "end": passage.end,
        "text": fit(passage.text),
        "lexical": fit(lexical),
        "dense": vector.tolist(),
    }
