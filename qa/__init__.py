"""report-qa: find the passages of a report that answer a question, quoted with citations.
May import ``embeddings`` (which never imports ``qa``); ``ui`` uses only the names below, and only ``qa.cli`` imports ``ui``.

Packages, each importing only those before it: :mod:`qa.language` (text and questions),
:mod:`qa.documents` (reports, readers, libraries), :mod:`qa.retrieval` (BM25, vectors, fusion),
:mod:`qa.answers` (evidence, decision, highlights). On top: :mod:`qa.assistant` (the facade,
:class:`Assistant`), :mod:`qa.results` (the answer contract), :mod:`qa.cli`, :mod:`qa.evaluate`
and :mod:`qa.calibrate`.
"""

from qa.assistant import MAX_UPLOAD_BYTES, Assistant, UnknownDocument
from qa.documents.document import Document, Paragraph, Section, Sentence
from qa.documents.ingest import SUPPORTED_SUFFIXES, ReportError, read_report
from qa.language.question import QuestionError
from qa.results import Answer, Citation, Highlight, Passage, refusal

__all__ = [
    "MAX_UPLOAD_BYTES",
    "SUPPORTED_SUFFIXES",
    "Answer",
    "Assistant",
    "Citation",
    "Document",
    "Highlight",
    "Paragraph",
    "Passage",
    "QuestionError",
    "ReportError",
    "Section",
    "Sentence",
    "UnknownDocument",
    "read_report",
    "refusal",
]
