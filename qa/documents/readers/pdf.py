"""PDF reports, read with pdfplumber.

A PDF holds positioned lines, not paragraphs, so the layout is read back:

* Page furniture is dropped: a line repeated at the same height on at least half of the pages
  (digits aside, so ``3/8`` or a date still match) among the two first or last lines of a page
  (running headers and footers, like Chromium's date/title header and URL/``1/5`` footer), and a
  bare page number (``12``, ``- 12 -``, ``第12页``, ``12/30``) as the first or last line.
* Lines are joined into paragraphs. A new paragraph starts at a change of font size, weight or
  typeface, after a vertical gap clearly larger than the usual gap between lines, at a line
  indented from the one before (first-line indent), and after a line that ends well short of
  the right margin with sentence-ending punctuation or that reads as a heading. A line break
  inside a sentence is not a paragraph end; CJK lines join without a blank.
* A paragraph set larger than the body text and short enough to be a heading is a heading,
  ranked by size; a short bold one at body size is an unranked heading; the rest goes through
  the general rules of :mod:`qa.documents.structure`.
* CJK radicals that some fonts map their glyphs to (``⼯`` U+2F2F for 工, ``⻓`` U+2ED3 for 长)
  are replaced by the ideographs Unicode's EquivalentUnifiedIdeograph.txt names (shipped beside
  this module; NFKC would miss the U+2E80-U+2EFF block). Unicode names one ideograph per
  radical, but a regional font draws ``⼾`` in its own form: 户 in a Simplified Chinese font, 戸
  in a Japanese one (the region is read from the font name, as in ``NotoSansCJKsc``).

* A page without a text layer (a scan) is rendered and read by OCR (:mod:`qa.documents.readers.ocr`):
  its lines, with box heights for font sizes, go through the same rules. A page where OCR finds
  nothing either is listed in ``Layout.empty_pages``, not refused.

``Document.text`` is the paragraphs joined with blank lines; ``Document.layout`` keeps each page's
size and each line's characters' positions (see :mod:`qa.documents.layout`), so a citation knows
its page and the page view can mark it. A PDF without any text (neither a text layer nor
anything OCR can read) or whose text is all page furniture is refused, as is an encrypted or
damaged one.
"""

from __future__ import annotations

import logging
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.page import Page
from pdfplumber.utils.exceptions import PdfminerException

from qa.documents.document import Document
from qa.documents.ingest import ReportError, error_reason
from qa.documents.layout import Layout, TextLine
from qa.documents.readers.ocr import RecognizedLine, recognize_pages
from qa.documents.readers.limits import MAX_PDF_PAGES, TooCostly, bound_pdfminer, bounded_pages
from qa.documents.structure import (
    CLOSERS,
    SENTENCE_END,
    Block,
    Piece,
    build_document,
    is_heading_like,
    is_short_line,
    join_blocks,
    join_lines,
    join_lines_at,
)

# pdfminer warns about every font it cannot fully describe (Chromium's subset CJK fonts).
logging.getLogger("pdfminer").setLevel(logging.ERROR)
bound_pdfminer()  # a stream that inflates too far is refused, not inflated (see qa.documents.readers.limits)

EQUIVALENT_IDEOGRAPHS = Path(__file__).with_name("EquivalentUnifiedIdeograph.txt")
SIZE_TOLERANCE = 0.5  # points: sizes closer than this are the same size
SHORT_LINE_EMS = 2.5  # a line ending this many character widths before the margin is short
OUTER_LINES = 2  # running headers and footers are among the first and last lines of a page
FURNITURE_DRIFT = 2.0  # points: a running header or footer stays this close to the same height
OCR_FONT = "OCR"  # the typeface of every line read by OCR (a scan shows no fonts)
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")
_FONT_REGION = re.compile(r"(sc|cn|jp)(?=-|$)", re.IGNORECASE)
_REGIONAL_FORMS = {"sc": {0x2F3E: "户"}, "cn": {0x2F3E: "户"}, "jp": {0x2F3E: "戸"}}
_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER = re.compile(
    r"[-–—]?\s*(?:第\s*)?\d+\s*页?\s*[-–—]?(?:\s*[/，,]?\s*共\s*\d+\s*页)?|(?:page\s*)?\d+\s*(?:/|of)\s*\d+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Line:
    """One text line of a page (from 0), with its geometry, dominant font, and the left x of each
    character of ``text`` followed by the right x of the last one."""

    page: int
    top: float
    bottom: float
    x0: float
    x1: float
    text: str
    size: float
    font: str
    bold: bool
    edges: tuple[float, ...]


@dataclass(frozen=True)
class _Body:
    """Measures of the body text: its font size, usual gap between lines, right margin."""

    body_size: float
    line_gap: float
    right: float


def read(path: Path, source: str) -> Document:
    """Read a .pdf file: its text layer, and its pages without one by OCR."""
    sizes, pages = _read_pages(path, source)
    scanned = [number for number, lines in enumerate(pages) if not lines]
    if scanned:
        for number, recognized in recognize_pages(path, scanned, source).items():
            pages[number] = [_ocr_line(line) for line in recognized]
    lines = _drop_page_furniture(pages)
    if not lines:
        raise ReportError(f"{source}: no text found: no text layer, and OCR read nothing on its {len(pages)} pages")
    body = _measure(lines)
    paragraphs = _paragraphs(lines, body)
    levels = _heading_levels(paragraphs, body)
    text, blocks = join_blocks(_piece(paragraph, body, levels) for paragraph in paragraphs)
    layout = Layout(
        sizes=sizes,
        lines=_placed_lines(paragraphs, blocks),
        ocr_pages=tuple(number + 1 for number in scanned),
        empty_pages=tuple(number + 1 for number, lines in enumerate(pages) if not lines),
    )
    return replace(build_document(text, blocks, source, "pdf"), layout=layout)


# --- lines ---------------------------------------------------------------------------------


def _read_pages(path: Path, source: str) -> tuple[tuple[tuple[float, float], ...], list[list[_Line]]]:
    """Each page's (width, height) in points, and its text lines (none for a page without a text layer)."""
    sizes = []
    pages = []
    try:
        with pdfplumber.open(path, pages=range(1, MAX_PDF_PAGES + 2)) as pdf:  # one past the limit is enough to refuse
            for number, page in enumerate(bounded_pages(pdf.pages)):
                sizes.append((round(float(page.width), 1), round(float(page.height), 1)))
                pages.append(_page_lines(page, number))
    except PdfminerException as error:  # pdfplumber wraps pdfminer's error as its first argument
        cause = next((arg for arg in error.args if isinstance(arg, BaseException)), error)
        raise ReportError(f"{source}: {_problem(cause)}") from error
    if not pages:
        raise ReportError(f"{source}: not a readable PDF (no pages found)")
    return tuple(sizes), pages


def _problem(error: BaseException) -> str:
    if isinstance(error, TooCostly):
        return f"refused: {error}"
    if isinstance(error, PDFPasswordIncorrect):
        return "this PDF is encrypted (password-protected); remove the password first"
    if isinstance(error, PDFEncryptionError):
        return "this PDF is encrypted in a way that cannot be read"
    return f"not a readable PDF ({error_reason(error)})"


def _page_lines(page: Page, number: int) -> list[_Line]:
    lines = []
    for line in page.dedupe_chars().extract_text_lines(return_chars=True, strip=True):
        chars = [char for char in line["chars"] if char["text"].strip()]
        if not chars:
            continue
        font = Counter(_SUBSET_PREFIX.sub("", char["fontname"]) for char in chars).most_common(1)[0][0]
        text = repair_radicals(line["text"], font)
        lines.append(
            _Line(
                page=number,
                top=line["top"],
                bottom=line["bottom"],
                x0=line["x0"],
                x1=line["x1"],
                text=text,
                size=round(statistics.median(char["size"] for char in chars), 1),
                font=font,
                bold=all(_BOLD_FONT.search(char["fontname"]) for char in chars),
                edges=_char_edges(text, chars),
            )
        )
    return lines


def _char_edges(text: str, chars: Sequence[dict]) -> tuple[float, ...]:
    """The left x of each character of a line's ``text`` and the right x of the last, from its
    glyphs (``chars``, blanks left out, in text order; a ligature glyph covers several
    characters); a blank sits at the right edge of the glyph before it."""
    lefts: list[float] = []
    glyphs = iter(chars)
    glyph = chars[0]
    pending = ""  # characters of the current glyph's text not matched yet (a ligature has several)
    right = glyph["x0"]
    for char in text:
        if char.isspace():
            lefts.append(right)
            continue
        if not pending:
            glyph = next(glyphs, glyph)  # past the last glyph (text and glyphs disagree): keep it
            pending = glyph["text"].strip() or char
        pending = pending[1:]
        lefts.append(glyph["x0"])
        right = glyph["x1"]
    return tuple(round(float(x), 1) for x in (*lefts, right))


def _ocr_line(line: RecognizedLine) -> _Line:
    return _Line(line.page, line.top, line.bottom, line.x0, line.x1, line.text, line.size, OCR_FONT, False, line.edges)


def repair_radicals(text: str, font: str = "") -> str:
    """Replace CJK radicals (U+2E80-U+2FDF) and strokes with their equivalent unified ideographs.

    ``font`` is the name of the font the text is set in; its region picks regional forms.
    """
    region = _FONT_REGION.search(font)
    return text.translate(_ideograph_table(region.group(1).lower() if region else ""))


@cache
def _ideograph_table(region: str) -> dict[int, str]:
    """Unicode's Equivalent_Unified_Ideograph property (code point -> ideograph), regional forms applied."""
    table = {}
    for line in EQUIVALENT_IDEOGRAPHS.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) != 2:
            continue
        first, _, last = fields[0].strip().partition("..")
        for code in range(int(first, 16), int(last or first, 16) + 1):
            table[code] = chr(int(fields[1], 16))
    return table | _REGIONAL_FORMS.get(region, {})


def _drop_page_furniture(pages: list[list[_Line]]) -> list[_Line]:
    """Body lines in reading order, without running headers, footers and page numbers."""
    outer = [_outer_lines(page) for page in pages]
    tops: dict[str, list[float]] = {}
    for lines in outer:
        for key, top in {_furniture_key(line): line.top for line in lines}.items():
            tops.setdefault(key, []).append(top)

    def repeated(line: _Line) -> bool:
        count = sum(abs(top - line.top) <= FURNITURE_DRIFT for top in tops[_furniture_key(line)])
        return count >= 2 and 2 * count >= len(pages)

    kept = []
    for page, outer_lines in zip(pages, outer):
        for line in page:
            is_outer = line in outer_lines
            if is_outer and (repeated(line) or _is_page_number(line, page)):
                continue
            kept.append(line)
    return kept


def _outer_lines(page: list[_Line]) -> list[_Line]:
    return page if len(page) <= 2 * OUTER_LINES else [*page[:OUTER_LINES], *page[-OUTER_LINES:]]


def _furniture_key(line: _Line) -> str:
    """The line's text with digits and blanks out and width forms unified (OCR reads ``（一）`` as
    ``(一)`` on some pages)."""
    return _DIGITS.sub("#", "".join(unicodedata.normalize("NFKC", line.text).split()))


def _is_page_number(line: _Line, page: list[_Line]) -> bool:
    """A bare page number as the first or last line of its page."""
    return line in (page[0], page[-1]) and _PAGE_NUMBER.fullmatch(line.text.strip()) is not None


# --- paragraphs ----------------------------------------------------------------------------


def _measure(lines: list[_Line]) -> _Body:
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    body_size = sizes.most_common(1)[0][0]
    body = [line for line in lines if abs(line.size - body_size) < SIZE_TOLERANCE]
    gaps = sorted(
        line.top - previous.bottom
        for previous, line in zip(body, body[1:])
        if line.page == previous.page and line.top > previous.bottom
    )
    line_gap = gaps[len(gaps) // 4] if gaps else body_size / 2
    return _Body(body_size, line_gap, max(line.x1 for line in body))


def _paragraphs(lines: list[_Line], body: _Body) -> list[list[_Line]]:
    paragraphs = [[lines[0]]]
    for previous, line in zip(lines, lines[1:]):
        if _starts_paragraph(previous, line, body):
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)
    return paragraphs


def _starts_paragraph(previous: _Line, line: _Line, body: _Body) -> bool:
    """Whether ``line`` opens a new paragraph rather than continuing ``previous``."""
    if abs(line.size - previous.size) >= SIZE_TOLERANCE or (line.bold, line.font) != (previous.bold, previous.font):
        return True
    if line.page == previous.page and line.top - previous.bottom > body.line_gap + line.size / 2:
        return True
    if line.x0 > previous.x0 + line.size * 0.9:
        return True
    ends_short = previous.x1 < body.right - SHORT_LINE_EMS * previous.size
    unquoted = previous.text.rstrip(CLOSERS)
    ends_sentence = bool(unquoted) and unquoted[-1] in SENTENCE_END
    return ends_short and (ends_sentence or is_heading_like(previous.text))


def _paragraph_text(paragraph: list[_Line]) -> str:
    return join_lines(line.text for line in paragraph)


def _placed_lines(paragraphs: list[list[_Line]], blocks: list[Block]) -> tuple[TextLine, ...]:
    """Each line of each paragraph placed at its offset in the document text (``blocks`` are the
    paragraphs' blocks, in order)."""
    placed = []
    for paragraph, block in zip(paragraphs, blocks, strict=True):
        _, starts = join_lines_at(line.text for line in paragraph)
        for line, start in zip(paragraph, starts):
            placed.append(TextLine(line.page + 1, block.start + start, round(line.top, 1), round(line.bottom, 1), line.edges))
    return tuple(placed)


def _is_larger(paragraph: list[_Line], body: _Body) -> bool:
    return paragraph[0].size >= body.body_size + SIZE_TOLERANCE


def _heading_levels(paragraphs: list[list[_Line]], body: _Body) -> dict[float, int]:
    """Heading level by font size: the largest size of a heading-shaped paragraph is level 1."""
    sizes = {p[0].size for p in paragraphs if _is_larger(p, body) and is_short_line(_paragraph_text(p))}
    return {size: level for level, size in enumerate(sorted(sizes, reverse=True), start=1)}


def _piece(paragraph: list[_Line], body: _Body, levels: dict[float, int]) -> Piece:
    text = _paragraph_text(paragraph)
    if not is_short_line(text):
        return Piece(text)
    if _is_larger(paragraph, body):
        return Piece(text, "heading", levels[paragraph[0].size])
    if paragraph[0].bold:
        return Piece(text, "heading")
    return Piece(text)
