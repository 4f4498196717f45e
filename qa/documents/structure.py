"""Recover a report's structure from blocks of text, whatever the file format.

A reader turns its file into ``Document.text`` plus a sequence of :class:`Block` s (spans of that
text), each marked with what the file's own markup says about it: a title, a heading of level N,
a plain body paragraph, or nothing (``"text"``: the general rules decide). The general rules are
the ones a ``.txt`` report needs: a short block without sentence punctuation is a heading, and a
punctuation-free tail glued to the end of a paragraph (``…发展路子”。厦门检验检疫局党组敢想爱拼赢荣誉``)
is a heading too. :func:`build_document` then picks the title, decides which headings open
sections and which are sub-headings, and splits paragraphs into sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from qa.documents.document import Document, Paragraph, Section, Sentence
from qa.documents.ingest import ReportError

MAX_HEADING_CHARS = 40
MIN_GLUED_HEADING_CHARS = 4
BLOCK_SEPARATOR = "\n\n"
CELL_SEPARATOR = " | "
SENTENCE_END = "。！？!?…"
CLOSERS = "”’」』）)】》\"'"  # closing quotes and brackets that may follow a sentence end

# Paragraph separators: a line break (with the blanks around it) or a run of two or more
# blanks, which covers the non-breaking-space runs of pages copied from the web.
_SEPARATOR = re.compile(r"\s*\n\s*|\s{2,}")
_PUNCTUATION = set("，。！？；：、,.!?;:…“”‘’「」『』（）()【】《》\"'—")
# A sentence ends after terminal punctuation plus any closing quotes or brackets; an ASCII
# period only when followed by a blank or the end (not in "1.5" or "ISO9001.").
_SENTENCE = re.compile(
    rf"[^{SENTENCE_END}]*?(?:[{SENTENCE_END}]+|\.(?=\s|$))[{re.escape(CLOSERS)}]*|[^{SENTENCE_END}]+$"
)
_ASCII_WORD_CHAR = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True)
class Block:
    """A span of the document text and what the file's markup says about it.

    Attributes:
        start, end: offsets of ``text`` in the document text.
        text: the block verbatim, without surrounding blanks.
        role: ``"text"`` (unknown: the general rules decide), ``"body"`` (always a paragraph,
            e.g. a table row), ``"title"`` or ``"heading"``.
        level: for a heading, its level from the markup (1 is the highest); 0 for a heading the
            markup only emphasizes (a short bold line) without giving a level.
    """

    start: int
    end: int
    text: str
    role: str = "text"
    level: int = 0


class Piece(NamedTuple):
    """A block before it has offsets: what a reader extracts from a file, in reading order."""

    text: str
    role: str = "text"
    level: int = 0


@dataclass(frozen=True)
class _Heading:
    kind: str  # "level<N>", "emphasis", "glued", "line", "preamble", "title" or "none"
    start: int
    end: int
    text: str


# --- helpers for readers -------------------------------------------------------------------


def split_blocks(text: str) -> list[Block]:
    """Split plain text into ``"text"`` blocks at line breaks and runs of two or more blanks."""
    blocks = []
    position = 0
    for separator in [*_SEPARATOR.finditer(text), None]:
        end = separator.start() if separator else len(text)
        start, stop = _strip_span(text, position, end)
        if start < stop:
            blocks.append(Block(start, stop, text[start:stop]))
        position = separator.end() if separator else len(text)
    return blocks


def join_blocks(pieces: Iterable[Piece]) -> tuple[str, list[Block]]:
    """Join pieces into one document text (blank-line separated) and their blocks.

    Blanks around each piece are dropped; empty pieces are skipped.
    """
    parts: list[str] = []
    blocks: list[Block] = []
    position = 0
    for piece in pieces:
        text = piece.text.strip()
        if not text:
            continue
        if parts:
            position += len(BLOCK_SEPARATOR)
        parts.append(text)
        blocks.append(Block(position, position + len(text), text, piece.role, piece.level))
        position += len(text)
    return BLOCK_SEPARATOR.join(parts), blocks


def join_lines(lines: Iterable[str]) -> str:
    """Join the lines of one paragraph: directly for CJK, with a blank before a Latin word that
    follows Latin text (``dev-`` + ``ops`` stays ``dev-ops``)."""
    return join_lines_at(lines)[0]


def join_lines_at(lines: Iterable[str]) -> tuple[str, list[int]]:
    """:func:`join_lines`, with the offset where each line (stripped) starts in the joined text."""
    joined = ""
    starts = []
    for line in (line.strip() for line in lines):
        if line and joined and joined[-1].isascii() and joined[-1] != "-" and _ASCII_WORD_CHAR.match(line[0]):
            joined += " "
        starts.append(len(joined))
        joined += line
    return joined, starts


def table_row_text(cells: Iterable[str]) -> str:
    """One table row as one paragraph: the non-empty cells, blanks collapsed, joined with `` | ``."""
    return CELL_SEPARATOR.join(cell for cell in (" ".join(c.split()) for c in cells) if cell)


def is_short_line(text: str) -> bool:
    """Short, on one line, and not a sentence: a heading when the markup emphasizes it."""
    return (
        0 < len(text) <= MAX_HEADING_CHARS
        and "\n" not in text
        and not any(ch in "。！？!?" for ch in text)
        and text[-1] != "…"
    )


def is_heading_like(text: str) -> bool:
    """Short and free of the punctuation that ends or joins sentences: a heading on its own line."""
    return is_short_line(text) and not any(ch in "；;，," for ch in text) and text[-1] not in "：:、"


# --- blocks to a document ------------------------------------------------------------------


def build_document(text: str, blocks: Sequence[Block], source: str, format: str) -> Document:
    """Recover title, sections, sub-headings, paragraphs and sentences from marked blocks.

    The title is the first ``"title"`` block, else it is taken from the headings before the
    first paragraph. Sections open at the highest heading level the markup gives; without
    levels, at emphasized headings, else at glued headings, else at heading-like lines. Every
    other heading is a sub-heading. Paragraphs before any heading go under the title.
    """
    if not blocks:
        raise ReportError(f"{source or 'report'}: the report has no text")
    items: list[Block | _Heading] = []
    for block in blocks:
        items.extend(_classify(block))
    title, items = _take_title(items)
    untitled = _Heading("none", 0, 0, "")
    sections = _assemble(items, _section_kinds(items), title or untitled)
    if not any(section.paragraphs for section in sections):
        raise ReportError(f"{source or 'report'}: the report has headings but no body paragraphs")
    return Document(title=(title or untitled).text, text=text, sections=sections, source=source, format=format)


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _classify(block: Block) -> list[Block | _Heading]:
    if block.role == "title":
        return [_Heading("title", block.start, block.end, block.text)]
    if block.role == "heading":
        kind = f"level{block.level}" if block.level else "emphasis"
        return [_Heading(kind, block.start, block.end, block.text)]
    if block.role == "body":
        return [block]
    if is_heading_like(block.text):
        return [_Heading("line", block.start, block.end, block.text)]
    glued = _glued_heading_start(block.text)
    if glued is None:
        return [block]
    body_text = block.text[:glued].rstrip()
    return [
        Block(block.start, block.start + len(body_text), body_text),
        _Heading("glued", block.start + glued, block.end, block.text[glued:]),
    ]


def _glued_heading_start(text: str) -> int | None:
    """Offset where a heading glued after the paragraph's last sentence begins, if any."""
    last_end = max(text.rfind(ch) for ch in SENTENCE_END)
    if last_end < 0:
        return None
    tail_start = last_end + 1
    while tail_start < len(text) and text[tail_start] in CLOSERS:
        tail_start += 1
    tail = text[tail_start:].strip()
    if len(tail) < MIN_GLUED_HEADING_CHARS or not is_heading_like(tail):
        return None
    if any(ch in _PUNCTUATION for ch in tail):
        return None
    return tail_start + (len(text[tail_start:]) - len(text[tail_start:].lstrip()))


def _take_title(items: list[Block | _Heading]) -> tuple[_Heading | None, list[Block | _Heading]]:
    """Split off the title: the first ``title`` item, else one taken from the preamble.

    The preamble is the headings before the first paragraph. A web page copied as text often
    repeats the page title: ``A`` then ``<title>A``. When a preamble line ends with an earlier
    one, the prefix is the title and the suffix opens the first section. Otherwise the first
    preamble heading is the title and the last one (if there are more) opens the first section.
    """
    marked = next((item for item in items if isinstance(item, _Heading) and item.kind == "title"), None)
    if marked is not None:
        return marked, [item for item in items if item is not marked]
    preamble = []
    for item in items:
        if isinstance(item, Block):
            break
        preamble.append(item)
    rest = items[len(preamble):]
    if not preamble:
        return None, items
    for later_index in range(len(preamble) - 1, 0, -1):
        later = preamble[later_index]
        for earlier in preamble[:later_index]:
            if later.text.endswith(earlier.text) and len(later.text) > len(earlier.text):
                split = later.end - len(earlier.text)
                title_text = later.text[: len(later.text) - len(earlier.text)].rstrip()
                title = _Heading("title", later.start, later.start + len(title_text), title_text)
                opening = _Heading("preamble", split, later.end, earlier.text)
                return title, [opening, *preamble[later_index + 1:], *rest]
    title, *others = preamble
    if others and others[-1].kind == "line":
        others[-1] = _Heading("preamble", others[-1].start, others[-1].end, others[-1].text)
    return title, [*others, *rest]


def _section_kinds(items: list[Block | _Heading]) -> set[str]:
    """Heading kinds that open a section; every other heading kind is a sub-heading."""
    kinds = {item.kind for item in items if isinstance(item, _Heading)}
    levels = sorted(int(kind[5:]) for kind in kinds if kind.startswith("level"))
    if levels:
        return {f"level{levels[0]}", "preamble"}
    for kind in ("emphasis", "glued"):
        if kind in kinds:
            return {kind, "preamble"}
    return {"line", "preamble"}


def _assemble(items: list[Block | _Heading], section_kinds: set[str], title: _Heading) -> tuple[Section, ...]:
    """Group paragraphs under section headings; paragraphs before any heading go under the title."""
    sections: list[Section] = []
    heading: _Heading | None = None
    subheadings: list[str] = []
    paragraphs: list[Paragraph] = []
    subsection: str | None = None
    paragraph_count = 0

    def close_section() -> None:
        if heading is None and not paragraphs:
            return
        opened = heading or title
        sections.append(Section(len(sections), opened.text, opened.start, opened.end, tuple(subheadings), tuple(paragraphs)))

    for item in items:
        if isinstance(item, _Heading) and item.kind in section_kinds:
            close_section()
            heading, subheadings, paragraphs, subsection = item, [], [], None
        elif isinstance(item, _Heading):
            subsection = item.text
            subheadings.append(item.text)
        else:
            paragraphs.append(
                Paragraph(
                    index=paragraph_count,
                    section_index=len(sections),
                    number=len(paragraphs) + 1,
                    subsection=subsection,
                    start=item.start,
                    end=item.end,
                    text=item.text,
                    sentences=split_sentences(item.text, item.start),
                )
            )
            paragraph_count += 1
    close_section()
    return tuple(sections)


def split_sentences(text: str, offset: int = 0) -> tuple[Sentence, ...]:
    """Split text into sentences; a sentence ending inside a quote ends after the closing quote.

    Offsets are ``offset`` plus the position in ``text``; leading blanks are not part of a sentence.
    """
    sentences = []
    for match in _SENTENCE.finditer(text):
        start, end = _strip_span(text, match.start(), match.end())
        if start < end:
            sentences.append(Sentence(offset + start, offset + end, text[start:end]))
    return tuple(sentences)
