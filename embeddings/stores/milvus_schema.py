"""The Milvus collections of one library: their names, fields, indexes, and filter quoting.

``<name>`` holds one row per paragraph: citation fields, the verbatim text, the text BM25 reads
(a VARCHAR with a jieba analyzer feeding a BM25 function into a sparse vector) and the dense
vector (HNSW, inner product). ``<name>_docs`` holds one marker per document: its content key
once all its rows are written, an empty key while they are being written.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

MAX_TEXT_BYTES = 65_535  # Milvus' largest VARCHAR
MAX_NAME_BYTES = 4_096  # sources, titles, headings
ID_BYTES = 64
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 200
PASSAGE_FIELDS = ("source", "position")  # what a search returns of each hit
_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True)
class CollectionNames:
    """The passages collection and the markers collection of one library and model."""

    passages: str
    markers: str


def collection_names(roots: Sequence[str], model_id: str, analyzer: dict[str, Any]) -> CollectionNames:
    """``rq_<library folder>_<model>_<hash>`` (letters, digits and underscores, as Milvus requires);
    the hash tells apart libraries, models and BM25 analyzers whose names read alike."""
    folder = _slug(PurePath(roots[0]).name) or "library"
    model = _slug(PurePath(model_id.split("@")[0]).name) or "model"
    identity = json.dumps([roots, model_id, analyzer], ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:12]
    passages = f"rq_{folder[:40]}_{model[:40]}_{digest}"
    return CollectionNames(passages, f"{passages}_docs")


def _slug(text: str) -> str:
    return _NOT_NAME.sub("_", text).strip("_").lower()


def document_id(source: str) -> str:
    """A document marker's primary key: the hash of its source (plain hex, safe in any
    expression pymilvus builds from keys)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:40]


def passage_id(source: str, position: int) -> str:
    """A paragraph's primary key: its document's id and its position."""
    return f"{document_id(source)}-{position}"


def fit(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (at a character boundary)."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def quote(text: str) -> str:
    """A string literal for a Milvus filter expression."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def passage_filter(sources: Sequence[str] | None = None, within: Sequence[tuple[str, int]] | None = None) -> str:
    """The filter expression keeping only the passages of ``sources``, or only the passages
    ``within`` ((source, position) pairs); ``""`` keeps all."""
    if within is not None:
        return f"id in [{', '.join(quote(passage_id(*key)) for key in within)}]"
    if sources is not None:
        return f"source in [{', '.join(quote(s) for s in sources)}]"
    return ""


def create_collections(client: Any, names: CollectionNames, dim: int, analyzer: dict[str, Any]) -> None:
    """Create both collections with their indexes (strong consistency: a search sees every write)."""
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=ID_BYTES)
    schema.add_field("source", DataType.VARCHAR, max_length=MAX_NAME_BYTES)
    schema.add_field("title", DataType.VARCHAR, max_length=MAX_NAME_BYTES)
    schema.add_field("section", DataType.VARCHAR, max_length=MAX_NAME_BYTES)
    schema.add_field("subsection", DataType.VARCHAR, max_length=MAX_NAME_BYTES)
    for name in ("paragraph", "position", "start", "end"):
        schema.add_field(name, DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES)
    schema.add_field("lexical", DataType.VARCHAR, max_length=MAX_TEXT_BYTES, enable_analyzer=True,
                     analyzer_params=analyzer)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                 input_field_names=["lexical"], output_field_names=["sparse"]))
    index = client.prepare_index_params()
    index.add_index("dense", index_type="HNSW", metric_type="IP",
                    params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION})
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    index.add_index("source", index_type="INVERTED")
    client.create_collection(names.passages, schema=schema, index_params=index, consistency_level="Strong")

    markers = client.create_schema(auto_id=False)
    markers.add_field("id", DataType.VARCHAR, is_primary=True, max_length=ID_BYTES)
    markers.add_field("source", DataType.VARCHAR, max_length=MAX_NAME_BYTES)
    markers.add_field("key", DataType.VARCHAR, max_length=ID_BYTES)
    markers.add_field("passages", DataType.INT64)
    markers.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
    marker_index = client.prepare_index_params()
    marker_index.add_index("unused", index_type="FLAT", metric_type="L2")
    client.create_collection(names.markers, schema=markers, index_params=marker_index, consistency_level="Strong")


def marker(source: str, key: str, passages: int) -> dict[str, Any]:
    """A document's marker row (``key`` empty while its rows are being written)."""
    return {"id": document_id(source), "source": source, "key": key, "passages": passages, "unused": [0.0, 0.0]}
