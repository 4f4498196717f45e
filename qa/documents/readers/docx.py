"""Word reports (.docx), read with python-docx.

The body is read in order, paragraphs and tables. A paragraph styled Title is the title; a
heading style or an outline level (on the paragraph or its style chain) gives a heading of that
level; a short line whose runs are all bold is an unranked heading. Other paragraphs go through
the general rules of :mod:`qa.documents.structure`; a soft line break inside one separates blocks, as a
line break does in a .txt. Each table row becomes one body paragraph, its cells joined with
`` | `` (merged cells once). Headers, footers, footnotes and text boxes are not read.
``Document.text`` is the blocks joined with blank lines.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.document import Document as WordDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.styles.style import BaseStyle
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from qa.documents.document import Document
from qa.documents.ingest import ReportError
from qa.documents.readers.limits import check_zip
from qa.documents.structure import Piece, build_document, is_short_line, join_blocks, join_lines, table_row_text

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLES = {"title", "标题"}
_BODY_OUTLINE_LEVEL = 9  # w:outlineLvl 0-8 are heading levels 1-9; 9 means body text


def read(path: Path, source: str) -> Document:
    """Read a .docx file."""
    try:
        check_zip(path)  # before python-docx inflates anything
        word = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError) as error:
        raise ReportError(f"{source}: not a Word .docx file ({type(error).__name__})") from error
    text, blocks = join_blocks(_pieces(word))
    return build_document(text, blocks, source, "docx")


def _pieces(word: WordDocument) -> Iterator[Piece]:
    for item in word.iter_inner_content():
        if isinstance(item, Table):
            yield from (Piece(_row_text(row), "body") for row in item.rows)
        else:
            yield from _paragraph_pieces(item)


def _paragraph_pieces(paragraph: Paragraph) -> Iterator[Piece]:
    lines = paragraph.text.splitlines()
    styles = list(_style_chain(paragraph.style))  # looked up once: python-docx resolves styles slowly
    level = _heading_level(paragraph, styles)
    if any((style.name or "").lower() in _TITLE_STYLES for style in styles):
        yield Piece(join_lines(lines), "title")
    elif level:
        yield Piece(join_lines(lines), "heading", level)
    elif is_short_line(paragraph.text.strip()) and _is_bold(paragraph, styles):
        yield Piece(paragraph.text, "heading")
    else:
        yield from (Piece(line) for line in lines)


def _row_text(row: _Row) -> str:
    cells: list[_Cell] = []
    for cell in row.cells:
        if not cells or cell != cells[-1]:  # a horizontally merged cell repeats in row.cells
            cells.append(cell)
    return table_row_text(cell.text for cell in cells)


def _style_chain(style: BaseStyle | None) -> Iterator[BaseStyle]:
    while style is not None:
        yield style
        style = style.base_style


def _heading_level(paragraph: Paragraph, styles: list[BaseStyle]) -> int:
    """Heading level 1-9 from the paragraph's outline level, its style chain, or a heading style name."""
    for element in [paragraph._p, *(style.element for style in styles)]:
        values = element.xpath("./w:pPr/w:outlineLvl/@w:val")
        if values:
            level = int(values[0])
            return level + 1 if level < _BODY_OUTLINE_LEVEL else 0
    for style in styles:
        match = _HEADING_STYLE.match(style.name or "")
        if match:
            return int(match.group(1))
    return 0


def _is_bold(paragraph: Paragraph, styles: list[BaseStyle]) -> bool:
    """All runs with text are bold (directly, by character style or by paragraph style)."""
    runs = [run for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(_run_bold(run, styles) for run in runs)


def _run_bold(run: Run, paragraph_styles: list[BaseStyle]) -> bool:
    if run.bold is not None:
        return run.bold
    for style in [*_style_chain(run.style), *paragraph_styles]:
        if style.font.bold is not None:
            return style.font.bold
    return False
