"""Where a PDF's text sits on its pages: each printed line's characters, by document offset.

A PDF reader records, for every line it reads (from the text layer or by OCR), which span of
``Document.text`` it holds and the x of each of its characters. That is enough to tell the page
of any offset (``citation.page``) and to draw any span on the page image: one box per line it
touches. Coordinates are PDF points from the page's top-left corner, as pdfplumber gives them.
No I/O here.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Box:
    """A rectangle on page ``page`` (1-based), in points from the page's top-left corner."""

    page: int
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True)
class TextLine:
    """One printed line: the characters ``text[start:end]`` of the document text on page ``page``.

    Attributes:
        page: the physical page, from 1.
        start: offset of the line's first character in the document text.
        top, bottom: the line's vertical extent, in points from the page's top.
        edges: the left x of each character, then the right x of the last one (``end - start + 1``
            values); a blank joining two lines or words sits between its neighbours.
    """

    page: int
    start: int
    top: float
    bottom: float
    edges: tuple[float, ...]

    @property
    def end(self) -> int:
        """Offset just after the line's last character."""
        return self.start + len(self.edges) - 1

    def box(self, start: int, end: int) -> Box:
        """The box of the characters ``[start, end)`` of the document text (clipped to this line)."""
        first = max(start, self.start) - self.start
        last = min(end, self.end) - self.start
        return Box(self.page, self.edges[first], self.top, self.edges[last], self.bottom)


@dataclass(frozen=True)
class Layout:
    """A PDF's pages and its lines in document-text order.

    Attributes:
        sizes: (width, height) in points of each page, in page order.
        lines: every line read, ordered by ``start``.
        ocr_pages: pages (from 1) read by OCR because they had no text layer.
        empty_pages: pages (from 1) where nothing was read: neither a text layer nor any
            recognized text (a blank page, or a picture without words).
    """

    sizes: tuple[tuple[float, float], ...]
    lines: tuple[TextLine, ...]
    ocr_pages: tuple[int, ...] = ()
    empty_pages: tuple[int, ...] = ()

    @cached_property
    def _starts(self) -> list[int]:
        return [line.start for line in self.lines]

    def _line_at(self, offset: int) -> int:
        """Index of the last line starting at or before ``offset`` (0 when none does)."""
        return max(bisect.bisect_right(self._starts, offset) - 1, 0)

    def pages_of(self, start: int, end: int) -> tuple[int, int] | None:
        """First and last page of the text ``[start, end)``; None when no line holds it."""
        lines = self._lines_in(start, end)
        return (lines[0].page, lines[-1].page) if lines else None

    def boxes(self, start: int, end: int) -> list[Box]:
        """One box per line piece of the text ``[start, end)``, in reading order."""
        return [line.box(start, end) for line in self._lines_in(start, end)]

    def as_dict(self) -> dict[str, Any]:
        """The layout as JSON-ready lists (see :meth:`from_dict`)."""
        return {
            "sizes": [list(size) for size in self.sizes],
            "lines": [[line.page, line.start, line.top, line.bottom, list(line.edges)] for line in self.lines],
            "ocr_pages": list(self.ocr_pages),
            "empty_pages": list(self.empty_pages),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        """The layout :meth:`as_dict` wrote."""
        return cls(
            sizes=tuple((float(width), float(height)) for width, height in data["sizes"]),
            lines=tuple(TextLine(page, start, top, bottom, tuple(edges)) for page, start, top, bottom, edges in data["lines"]),
            ocr_pages=tuple(data["ocr_pages"]),
            empty_pages=tuple(data["empty_pages"]),
        )

    def _lines_in(self, start: int, end: int) -> list[TextLine]:
        if not self.lines or end <= start:
            return []
        found = []
        for line in self.lines[self._line_at(start):]:
            if line.start >= end:
                break
            if line.end > start:
                found.append(line)
        return found


def cited_pages(layout: Layout | None, start: int, end: int) -> tuple[int | None, int | None]:
    """``citation.page`` and ``citation.page_end`` of the text ``[start, end)``: the page it starts
    on, and the page it ends on when that is a later one; ``(None, None)`` without a layout."""
    pages = layout.pages_of(start, end) if layout else None
    if pages is None:
        return None, None
    first, last = pages
    return first, (last if last != first else None)
