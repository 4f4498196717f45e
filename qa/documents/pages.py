"""A PDF's pages as images, and where a passage sits on them.

Pages are rendered with pypdfium2 (PDFium): for OCR, and for the page view, whose images are
cached as palette PNG files under ``$REPORT_QA_HOME/pages/<sha256 of the PDF>/<page>@<scale>.png`` (a
damaged or missing one is rendered again). PDFium is not thread-safe: every call into it holds
one process-wide lock. Only pixels leave this module: nothing of a PDF (scripts, links, forms)
reaches a page that shows them.

:func:`page_marks` turns a passage, its answering sentences and its answer span (offsets into
the document text) into rectangles on one page, as fractions of the page's width and height,
so they stay on their characters whatever size the image is shown at.
"""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from embeddings.home import atomic_write
from qa.documents.layout import Box, Layout

if TYPE_CHECKING:
    from PIL.Image import Image

PAGES_DIR = "pages"
VIEW_SCALE = 2.0  # pixels per point of a page-view image (144 dpi): sharp up to 150% zoom on most screens
PALETTE_COLORS = 256  # a page-view image is kept with a palette: a quarter of the bytes of full colour
_pdfium = threading.Lock()

Span = tuple[int, int]


@dataclass(frozen=True)
class Mark:
    """A rectangle drawn over a page image: ``kind`` is ``"passage"`` (the cited paragraph's area,
    outlined), ``"sentence"`` (an answering sentence, filled) or ``"answer"`` (the answer span,
    filled more strongly); coordinates are fractions of the page's width and height."""

    kind: str
    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class PageView:
    """One page of a cited PDF as the page view shows it: the rendered image (a PNG file), the
    page's size in points, and the marks over it.

    Attributes:
        source: the document's source.
        number: the page, from 1; ``count``: how many pages the document has.
        image: the PNG of the page (see :func:`page_image`).
        width, height: the page's size in points.
        marks: the cited passage's marks on this page (none on a page it does not touch).
        ocr: whether the page's text was read by OCR.
    """

    source: str
    number: int
    count: int
    image: Path
    width: float
    height: float
    marks: tuple[Mark, ...]
    ocr: bool


def render_pages(path: Path, pages: Sequence[int], scale: float) -> Iterator[Image]:
    """RGB images of ``pages`` (from 0) of the PDF at ``path``, ``scale`` pixels per point."""
    import pypdfium2

    for page in pages:
        with _pdfium:
            document = pypdfium2.PdfDocument(path)
            try:
                image = document[page].render(scale=scale).to_pil().convert("RGB")
            finally:
                document.close()
        yield image


def page_image(home: Path, path: Path, sha256: str, page: int, scale: float = VIEW_SCALE) -> Path:
    """The PNG of page ``page`` (from 1) of the PDF at ``path`` whose content hash is ``sha256``,
    rendered once and kept under ``home/pages/``."""
    target = Path(home) / PAGES_DIR / sha256 / f"{page}@{scale:g}.png"
    if _is_png(target):
        return target
    from PIL.Image import Quantize

    (image,) = render_pages(path, [page - 1], scale)
    buffer = io.BytesIO()
    image.quantize(colors=PALETTE_COLORS, method=Quantize.FASTOCTREE).save(buffer, format="PNG")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, buffer.getbuffer())
    return target


def forget_pages(home: Path, sha256: str) -> None:
    """Delete the cached page images of the PDF with this content hash."""
    shutil.rmtree(Path(home) / PAGES_DIR / sha256, ignore_errors=True)


def _is_png(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(8) == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 64
    except OSError:
        return False


def page_marks(layout: Layout, page: int, passage: Span, sentences: Sequence[Span] = (),
               answer: Span | None = None) -> tuple[Mark, ...]:
    """The marks of a passage on page ``page`` (from 1): its area outlined (one rectangle around
    its lines there), then one filled rectangle per line piece of each sentence and of the
    answer. Empty when the passage has no line on that page."""
    width, height = layout.sizes[page - 1]

    def on_page(kind: str, span: Span) -> list[Mark]:
        return [_mark(kind, box, width, height) for box in layout.boxes(*span) if box.page == page]

    lines = on_page("passage", passage)
    if not lines:
        return ()
    area = Mark("passage", min(m.left for m in lines), min(m.top for m in lines),
                max(m.right for m in lines), max(m.bottom for m in lines))
    marks = [area]
    for sentence in sentences:
        marks += on_page("sentence", sentence)
    if answer is not None:
        marks += on_page("answer", answer)
    return tuple(marks)


def _mark(kind: str, box: Box, width: float, height: float) -> Mark:
    return Mark(kind, box.x0 / width, box.top / height, box.x1 / width, box.bottom / height)
