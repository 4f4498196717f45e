"""Reports as documents: the document model, one reader per format, structure recovery, libraries and their disk cache.
May import only ``qa.documents`` itself, ``qa.language`` and ``embeddings``; never retrieval, answers or the facade."""
