"""Retrieval: ranking a library's passages for a question by BM25 (and its disk cache), dense vectors, or both fused.
May import only ``qa.retrieval`` itself, ``qa.documents``, ``qa.language`` and ``embeddings``; never answers or the facade."""
