"""Dense retrieval for report-qa: encoder models, their offline preparation, and the vector index."""

from embeddings.encoder import Encoder, TextEncoder, load_encoder
from embeddings.home import report_qa_home
from embeddings.index import VectorIndex
from embeddings.models import DEFAULT_MODEL, ModelUnavailable, resolve_model

__all__ = [
    "DEFAULT_MODEL",
    "Encoder",
    "ModelUnavailable",
    "TextEncoder",
    "VectorIndex",
    "load_encoder",
    "report_qa_home",
    "resolve_model",
]
