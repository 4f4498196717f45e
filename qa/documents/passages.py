"""What retrieval and the answer checks read for a paragraph: the paragraph with its context.

A paragraph alone often never names its subject (``目前，已拥有研究员4名…``); its document title,
section heading and sub-heading do. They are indexed and matched with the paragraph, and shown
apart from it: the quoted text stays the paragraph alone.
"""

from __future__ import annotations

from qa.documents.document import Document, Paragraph


def passage_context(document: Document, paragraph: Paragraph) -> list[str]:
    """Document title, section heading and sub-heading of ``paragraph``, without blanks or repeats."""
    parts = [document.title, document.section_of(paragraph).heading, paragraph.subsection or ""]
    return [part for i, part in enumerate(parts) if part and part not in parts[:i]]


def passage_text(document: Document, paragraph: Paragraph) -> str:
    """The text indexed for a paragraph: its context lines, then the paragraph."""
    return "\n".join([*passage_context(document, paragraph), paragraph.text])
