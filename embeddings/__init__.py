"""Dense retrieval for report-qa: encoder models, their offline preparation, and the vector index.
May import third-party libraries only: never ``qa`` or ``ui`` (``qa`` imports this package)."""

from embeddings.encoder import Encoder, load_encoder
from embeddings.home import report_qa_home
from embeddings.index import VectorIndex
from embeddings.models import ModelUnavailable, resolve_model
from embeddings.prepared import DEFAULT_MODEL
from embeddings.text_encoder import TextEncoder

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
