"""report-qa: find the passages of a report that answer a question, quoted with citations."""

from qa.assistant import Assistant
from qa.documents.document import Document, Paragraph, Section, Sentence
from qa.documents.ingest import ReportError, read_report
from qa.language.question import QuestionError
from qa.results import Answer, Citation, Highlight, Passage

__all__ = [
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
    "read_report",
]
