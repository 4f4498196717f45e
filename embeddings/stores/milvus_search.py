"""Searching one library's Milvus collection: BM25 and dense searches, the exact score of given
passages, and Milvus' own hybrid search."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np

from embeddings.stores.base import StoreError, StoreHit
from embeddings.stores.milvus_schema import PASSAGE_FIELDS, passage_filter, passage_id

EF_SEARCH = 256  # HNSW search breadth (at least the hits asked for): recall@10 0.99 at 100k, 0.965 with 128
RRF_K = 60
PassageKey = tuple[str, int]  # (source, position)


@contextmanager
def milvus_errors(uri: str) -> Iterator[None]:
    """Turn a Milvus error into a one-line :class:`StoreError` naming the store."""
    from pymilvus.exceptions import MilvusException

    try:
        yield
    except MilvusException as error:
        raise StoreError(f"Milvus store {uri}: {error.message}") from None


class MilvusCollection:
    """The passages collection of one library, searched by BM25 or by vector."""

    def __init__(self, client: Any, name: str, uri: str) -> None:
        self.client = client
        self.name = name
        self.uri = uri

    def search_lexical(self, texts: Sequence[str], limit: int, sources: Sequence[str] | None = None,
                       within: Sequence[PassageKey] | None = None) -> list[list[StoreHit]]:
        """The ``limit`` best BM25 matches of each text (the store's analyzer tokenizes it), in one
        request; among the passages of ``sources``, or only among those ``within``."""
        found = self._search(list(texts), "sparse", {"metric_type": "BM25"}, limit, passage_filter(sources, within))
        return [[hit._replace(score=abs(hit.score)) for hit in hits] for hits in found]  # Milvus Lite negates BM25

    def search_dense(self, vector: np.ndarray, limit: int, sources: Sequence[str] | None = None) -> list[StoreHit]:
        """The ``limit`` passages of highest inner product with ``vector`` (HNSW)."""
        params = {"metric_type": "IP", "params": {"ef": max(limit, EF_SEARCH)}}
        return self._search([vector.tolist()], "dense", params, limit, passage_filter(sources))[0]

    def dense_scores(self, vector: np.ndarray, within: Sequence[PassageKey]) -> list[StoreHit]:
        """The exact inner product of ``vector`` with each passage ``within`` (their stored vectors)."""
        if not within:
            return []
        with milvus_errors(self.uri):
            rows = self.client.get(self.name, ids=[passage_id(*key) for key in within],
                                   output_fields=[*PASSAGE_FIELDS, "dense"])
        vectors = np.array([row["dense"] for row in rows], dtype=np.float32).reshape(len(rows), -1)
        return [StoreHit(row["source"], int(row["position"]), float(score)) for row, score in zip(rows, vectors @ vector)]

    def search_hybrid(self, text: str, vector: np.ndarray, limit: int, ranker: Literal["rrf", "weighted"],
                      depth: int, sources: Sequence[str] | None = None) -> list[StoreHit]:
        """Milvus' own ``hybrid_search``: BM25 and dense top ``depth`` each, fused in Milvus by
        ``RRFRanker`` or ``WeightedRanker(0.5, 0.5)``; scores are the ranker's."""
        from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

        expression = passage_filter(sources) or None
        requests = [
            AnnSearchRequest([text], "sparse", {"metric_type": "BM25"}, depth, expr=expression),
            AnnSearchRequest([vector.tolist()], "dense", {"metric_type": "IP", "params": {"ef": max(depth, EF_SEARCH)}},
                             depth, expr=expression),
        ]
        fusion = RRFRanker(RRF_K) if ranker == "rrf" else WeightedRanker(0.5, 0.5)
        with milvus_errors(self.uri):
            result = self.client.hybrid_search(self.name, requests, fusion, limit=limit, output_fields=list(PASSAGE_FIELDS))
        return _hits(result[0])

    def _search(self, data: list, field: str, params: dict, limit: int, expression: str) -> list[list[StoreHit]]:
        with milvus_errors(self.uri):
            result = self.client.search(self.name, data=data, anns_field=field, search_params=params, limit=limit,
                                        filter=expression, output_fields=list(PASSAGE_FIELDS))
        return [_hits(hits) for hits in result]


def _hits(found: Sequence[dict[str, Any]]) -> list[StoreHit]:
    return [StoreHit(hit["entity"]["source"], int(hit["entity"]["position"]), float(hit["distance"])) for hit in found]
