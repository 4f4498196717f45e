"""The report as structured data: Document -> Section -> Paragraph -> Sentence.

Every piece carries ``start``/``end`` character offsets into ``Document.text`` (the normalized
text of the source file), so ``document.text[piece.start:piece.end] == piece.text`` always holds.
No I/O here: see :mod:`qa.documents.ingest` for building a Document from a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qa.documents.layout import Layout


@dataclass(frozen=True)
class Sentence:
    """One sentence of a paragraph; offsets are into the document text."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    """One body paragraph.

    Attributes:
        index: position among all body paragraphs of the document, from 0.
        section_index: position of the owning section in ``Document.sections``, from 0.
        number: position within its section, from 1 (the ``¶`` of a citation).
        subsection: the sub-heading the paragraph sits under, or None.
        start, end: offsets of ``text`` in the document text.
        text: the paragraph verbatim (separator whitespace trimmed).
        sentences: the paragraph's sentences, in order, covering its non-space text.
    """

    index: int
    section_index: int
    number: int
    subsection: str | None
    start: int
    end: int
    text: str
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class Section:
    """A section: its recovered heading, that heading's offsets, and its paragraphs."""

    index: int
    heading: str
    heading_start: int
    heading_end: int
    subheadings: tuple[str, ...]
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Document:
    """A whole report.

    Attributes:
        title: the report title (may be empty when the source has none).
        text: the normalized source text all offsets point into.
        sections: sections in reading order.
        source: where the text came from (a path or a label).
        format: the file format it was read from: "txt", "md", "docx", "pdf" or "html". For
            docx, pdf and html, ``text`` is the extracted blocks joined with blank lines.
        layout: for a PDF, its pages and where each line of ``text`` sits on them; else None.
    """

    title: str
    text: str
    sections: tuple[Section, ...]
    source: str = ""
    format: str = "txt"
    layout: Layout | None = field(default=None, repr=False)
    paragraphs: tuple[Paragraph, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        paragraphs = tuple(p for section in self.sections for p in section.paragraphs)
        object.__setattr__(self, "paragraphs", paragraphs)

    def section_of(self, paragraph: Paragraph) -> Section:
        """Return the section that holds ``paragraph``."""
        return self.sections[paragraph.section_index]
