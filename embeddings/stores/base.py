"""What every store is given and promises: a library's passages as plain rows, kept in step
with the library by :meth:`Store.sync`.

A store holds one library's passage index. The local store (the default) keeps passage vectors
on disk and searches them with FAISS beside the in-process BM25; a Milvus store keeps the rows,
their vectors and a BM25 index in a Milvus collection and searches there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from embeddings.text_encoder import TextEncoder

LOCAL_URI = "faiss"
ROWS_VERSION = 1  # part of every document key: bump when the rows a store keeps change
Log = Callable[[str], None]


class StoreError(Exception):
    """A store that cannot be used: bad URI, unreachable server, locked file. One line."""


@dataclass(frozen=True)
class StoredPassage:
    """One paragraph as a store keeps it.

    Attributes:
        position: the paragraph's index in its document, from 0.
        section, subsection: headings it sits under (``""`` without a sub-heading).
        paragraph: its number within the section, from 1.
        start, end: offsets of ``text`` in the document's text.
        text: the paragraph verbatim.
        encoded: the text the encoder reads (headings and paragraph).
    """

    position: int
    section: str
    subsection: str
    paragraph: int
    start: int
    end: int
    text: str
    encoded: str


@dataclass(frozen=True)
class StoredDocument:
    """One document of a library: its source, title and passages, and ``lexical``, which makes
    the text BM25 reads of each passage (only for documents being written: it takes time)."""

    source: str
    title: str
    passages: tuple[StoredPassage, ...]
    lexical: Callable[[], Sequence[str]] = field(compare=False, repr=False)

    @property
    def encoded(self) -> list[str]:
        """The text the encoder reads for each passage."""
        return [p.encoded for p in self.passages]

    def key(self, model_id: str) -> str:
        """Content hash of all a store keeps of this document with this model's vectors (``lexical``
        is made from the passages by code that ``ROWS_VERSION`` versions)."""
        rows = [ROWS_VERSION, model_id, self.source, self.title, [astuple(p) for p in self.passages]]
        return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredLibrary:
    """A library as a store indexes it.

    Attributes:
        roots: what identifies the library: the folder (or file) it was read from, then the
            extra folders read with it (uploads).
        documents: its readable documents, in order.
        analyzer: Milvus ``analyzer_params`` that make a BM25 field read text as the local
            BM25 does (tokenizer and stop words).
    """

    roots: tuple[str, ...]
    documents: tuple[StoredDocument, ...]
    analyzer: dict[str, Any]


class StoreHit(NamedTuple):
    """A passage found by a search: its document, its position there, and the search's score."""

    source: str
    position: int
    score: float


class Store(Protocol):
    """Where a library's passages are indexed for retrieval."""

    uri: str
    in_process: bool  # True: BM25 and vector search run in this process (see qa.retrieval.retriever)

    def sync(self, library: StoredLibrary, encoder: TextEncoder, *, progress: bool, log: Log) -> object:
        """Make the store hold exactly ``library``, writing only added, changed and removed
        documents; returns what retrieval searches."""
        ...

    def indexed(self, library: StoredLibrary, model_id: str) -> list[bool]:
        """Whether each document of ``library`` is stored intact for ``model_id``."""
        ...


def vector_inputs(documents: Sequence[StoredDocument]) -> list[tuple[str, list[str]]]:
    """(source, encoded passages) of each document, as :meth:`VectorStore.sync` takes them."""
    return [(document.source, document.encoded) for document in documents]
