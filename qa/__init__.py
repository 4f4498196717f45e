"""report-qa: find the passages of a report that answer a question, quoted with citations.
May import ``embeddings`` (which never imports ``qa``); ``ui`` uses only the names below, and only ``qa.cli`` imports ``ui``.

Packages, each importing only those before it: :mod:`qa.language` (text and questions),
:mod:`qa.documents` (reports, readers, libraries), :mod:`qa.retrieval` (BM25, vectors, fusion),
:mod:`qa.answers` (evidence, decision, highlights); beside them :mod:`qa.team` (users, roles,
the audit log), which imports none of them. On top: :mod:`qa.assistant` (the facade,
:class:`Assistant`), :mod:`qa.results` (the answer contract), :mod:`qa.cli`, :mod:`qa.evaluate`
and :mod:`qa.calibrate`.
"""

from qa.assistant import Assistant, UnknownDocument
from qa.documents.document import Document, Paragraph, Section, Sentence
from qa.documents.ingest import SUPPORTED_SUFFIXES, ReportError, read_report
from qa.documents.pages import Mark, PageView
from qa.documents.readers.limits import size_text
from qa.documents.readers.ocr import ocr_progress
from qa.documents.uploads import MAX_UPLOAD_BYTES, UploadLimits
from qa.language.question import QuestionError
from qa.results import Answer, Citation, Highlight, Passage, refusal
from qa.team.access import FAILED_SIGN_IN_DELAY_S, Access, NotAllowed
from qa.team.users import Users

__all__ = [
    "FAILED_SIGN_IN_DELAY_S",
    "MAX_UPLOAD_BYTES",
    "SUPPORTED_SUFFIXES",
    "Access",
    "Answer",
    "Assistant",
    "Citation",
    "Document",
    "Highlight",
    "Mark",
    "NotAllowed",
    "PageView",
    "Paragraph",
    "Passage",
    "QuestionError",
    "ReportError",
    "Section",
    "Sentence",
    "UnknownDocument",
    "UploadLimits",
    "Users",
    "ocr_progress",
    "read_report",
    "refusal",
    "size_text",
]
