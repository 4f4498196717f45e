"""Pages without a text layer, read by OCR: RapidOCR with the PP-OCR detection and recognition
models shipped inside the ``rapidocr`` wheel, run on ONNX Runtime (nothing is downloaded).

Each page is rendered at :data:`OCR_DPI`; every text line found comes back with its box and the x
of each of its characters (RapidOCR's single-character boxes, or the line's width shared out by
character width where those do not match the text), in points like pdfplumber's.

A scanned page has no font sizes, so the line boxes stand in for them: a line's size is the
advance of its characters, its box's width over its character count (see :func:`font_sizes`).
Box heights were the first guess, but they wobble too much: on the scanned seed, 12 pt full
lines measured 12.0 to 14.0 pt high and two-character last lines up to 17.6 pt, 14 pt
sub-headings 13.5 to 16.0 and 18 pt headings 17.1 to 18.8, while the same lines' advances were
12.0, 14.1 to 14.3 and 17.95 to 18.04 pt. The PDF reader then applies its usual rules to the lines.

OCR takes seconds a page: :func:`ocr_progress` lets a caller follow it page by page; without
one, a progress bar shows on a terminal.
"""

from __future__ import annotations

import statistics
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from qa.documents.pages import render_pages
from qa.documents.structure import is_heading_like

OCR_DPI = 200  # pages are rendered at this resolution for recognition
BODY_TOLERANCE = 1.15  # a line's size within this factor of the body's is the body size
SAME_SIZE = 1.08  # heading sizes within this factor of each other are one size
BODY_LINE_CHARS = 10  # lines this long measure the body's size
HALF_WIDTH = 0.5  # width of a narrow (Latin, digit) character against a CJK one

PageProgress = Callable[[int, int], None]
_progress: ContextVar[PageProgress | None] = ContextVar("ocr_progress", default=None)
_lock = threading.Lock()  # one recognition at a time: the engine keeps per-call settings


@dataclass(frozen=True)
class RecognizedLine:
    """One text line found on a page.

    Attributes:
        page: the page, from 0.
        text: the recognized text, without surrounding blanks.
        x0, top, x1, bottom: its box, in points from the page's top-left corner.
        size: its font size as measured from its box (see :func:`font_sizes`).
        edges: the left x of each character of ``text``, then the right x of the last one.
    """

    page: int
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    edges: tuple[float, ...]


@contextmanager
def ocr_progress(report: PageProgress) -> Iterator[None]:
    """Within the block, OCR calls ``report(pages done, pages to read)`` before the first page
    and after each page, instead of showing a progress bar."""
    token = _progress.set(report)
    try:
        yield
    finally:
        _progress.reset(token)


def recognize_pages(path: Path, pages: Sequence[int], source: str) -> dict[int, list[RecognizedLine]]:
    """The text lines OCR finds on each of ``pages`` (from 0) of the PDF at ``path``, in reading
    order; a page where it finds nothing maps to an empty list."""
    found: dict[int, list[RecognizedLine]] = {}
    with _progress_of(len(pages), source) as step:
        for page, image in zip(pages, render_pages(path, pages, OCR_DPI / 72)):
            found[page] = _recognize(image, page, OCR_DPI / 72)
            step()
    sizes = iter(font_sizes([line for lines in found.values() for line in lines]))
    return {page: [replace(line, size=next(sizes)) for line in lines] for page, lines in found.items()}


@contextmanager
def _progress_of(total: int, source: str) -> Iterator[Callable[[], None]]:
    """A ``step()`` to call after each page: reported to the caller's :func:`ocr_progress`, or
    shown as a bar on a terminal."""
    report = _progress.get()
    if report is not None:
        done = 0
        report(done, total)

        def step() -> None:
            nonlocal done
            done += 1
            report(done, total)

        yield step
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=f"OCR {source}", unit="页", file=sys.stderr, disable=None, leave=False) as bar:
        yield lambda: bar.update(1)


@cache
def _engine() -> Any:
    from rapidocr import RapidOCR

    return RapidOCR(params={"Global.log_level": "error", "Global.use_cls": False})


def _recognize(image: Any, page: int, scale: float) -> list[RecognizedLine]:
    """The lines of one page image; ``scale`` is pixels per point."""
    import numpy as np

    with _lock:
        result = _engine()(np.asarray(image), return_word_box=True, return_single_char_box=True)
    if not result.txts:
        return []
    char_boxes = result.word_results if len(result.word_results) == len(result.txts) else [()] * len(result.txts)
    lines = []
    for quad, raw, chars in zip(result.boxes, result.txts, char_boxes):
        text = raw.strip()
        if not text:
            continue
        xs, ys = [float(x) / scale for x, _ in quad], [float(y) / scale for _, y in quad]
        x0, x1 = min(xs), max(xs)
        lefts_rights = [(float(min(p[0] for p in box)) / scale, float(max(p[0] for p in box)) / scale)
                        for _, _, box in chars]
        recognized = "".join(char for char, _, _ in chars)
        if recognized != text.replace(" ", ""):
            lefts_rights = []
        lines.append(
            RecognizedLine(page, text, round(x0, 1), round(min(ys), 1), round(x1, 1), round(max(ys), 1), 0.0,
                           _edges(text, lefts_rights, x0, x1))
        )
    return lines


def _edges(text: str, boxes: Sequence[tuple[float, float]], x0: float, x1: float) -> tuple[float, ...]:
    """Left x of each character of ``text`` and the right x of the last: from the boxes of its
    non-blank characters when given, else ``x0..x1`` shared out by character width."""
    if boxes:
        lefts, boxes_left = [], iter(boxes)
        right = x0
        for char in text:
            if char.isspace():
                lefts.append(right)
                continue
            left, right = next(boxes_left)
            lefts.append(left)
        edges = [*lefts, right]
    else:
        unit = (x1 - x0) / _width(text)
        edges = [x0]
        for char in text:
            edges.append(edges[-1] + _width(char) * unit)
    return tuple(round(x, 1) for x in edges)


def font_sizes(lines: Sequence[RecognizedLine]) -> list[float]:
    """A font size for each line, from its box: the advance of its characters (the box's width
    over its characters, a narrow one counting half).

    Every line that cannot be a heading (long, or with sentence punctuation) is set at the body
    size, the median advance of long lines, as is a heading-shaped one within
    :data:`BODY_TOLERANCE` of it; larger heading-shaped lines are grouped by size (each within
    :data:`SAME_SIZE` of the group's smallest), each group at its median, so a heading's level
    does not hang on a tenth of a point.
    """
    advances = [(line.x1 - line.x0) / _width(line.text) for line in lines]
    if not advances:
        return []
    long_lines = [a for a, line in zip(advances, lines) if len(line.text) >= BODY_LINE_CHARS]
    body = round(statistics.median(long_lines or advances), 1)
    larger = sorted(a for a, line in zip(advances, lines) if a > body * BODY_TOLERANCE and is_heading_like(line.text))
    groups: list[list[float]] = []
    for advance in larger:
        if groups and advance <= groups[-1][0] * SAME_SIZE:
            groups[-1].append(advance)
        else:
            groups.append([advance])
    size_of = {a: round(statistics.median(group), 1) for group in groups for a in group}
    return [size_of.get(a, body) if is_heading_like(line.text) else body for a, line in zip(advances, lines)]


def _width(text: str) -> float:
    """The width of ``text`` in ems: a wide (CJK) character is one, a narrow one half."""
    return sum(1.0 if unicodedata.east_asian_width(char) in "WF" else HALF_WIDTH for char in text)
