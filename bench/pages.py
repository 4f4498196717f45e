"""Original pages: OCR of a scanned page (``ocr_page_s``) and rendering a page for the page view
(``page_render_ms``).

The scan is made here, without a browser: the report's paragraphs drawn at 12 pt onto 200-dpi
grey pages with the system's Noto Sans CJK SC (Debian's fonts-noto-cjk; without it both figures
are None), saved as a PDF of page images. ``ocr_page_s`` is the time to read that PDF, fresh
(render, detect, recognize, structure), per page; ``page_render_ms`` the time to render one of its
pages at the page view's scale and write its PNG, nothing cached.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

from bench.common import percentile_ms, time_each
from qa.documents.document import Document

SCAN_DPI = 200
SCAN_PAGES = 2
FONT_PT = 12
CHARS_PER_LINE = 40  # 40 characters of 12 pt fill a Letter page's text width (6.5 in)


def run_pages(report: Document) -> dict[str, object]:
    """``ocr_page_s`` and ``page_render_ms`` on a scan of ``report`` (None without a CJK font)."""
    font = _cjk_font()
    if font is None:
        return {"ocr_page_s": None, "page_render_ms": None, "pages_note": "no Noto Sans CJK SC font (fonts-noto-cjk)"}
    from qa.documents.cache import file_sha256
    from qa.documents.ingest import read_report
    from qa.documents.pages import page_image

    with tempfile.TemporaryDirectory(prefix="report-qa-bench-pages-") as scratch:
        scan = _scan(report, font, Path(scratch) / "scan.pdf")
        started = time.perf_counter()
        read = read_report(scan)
        ocr_page_s = (time.perf_counter() - started) / SCAN_PAGES
        sha = file_sha256(scan)
        home = Path(scratch) / "home"
        renders = time_each(lambda number: page_image(home, scan, sha, number), list(range(1, SCAN_PAGES + 1)) * 3,
                            before=lambda: shutil.rmtree(home, ignore_errors=True))
    return {
        "ocr_page_s": round(ocr_page_s, 2),
        "ocr_pages": SCAN_PAGES,
        "ocr_paragraphs": len(read.paragraphs),
        "page_render_ms": round(percentile_ms(renders, 50), 1),
    }


def _cjk_font() -> tuple[str, int] | None:
    """(font file, index in a collection) of Noto Sans CJK SC, or None."""
    if shutil.which("fc-match") is None:
        return None
    found = subprocess.run(["fc-match", "-f", "%{file}:%{index}", "Noto Sans CJK SC"], capture_output=True, text=True)
    path, _, index = found.stdout.rpartition(":")
    return (path, int(index or 0)) if "NotoSansCJK" in path else None


def _scan(report: Document, font: tuple[str, int], target: Path) -> Path:
    """The first ``SCAN_PAGES`` pages of ``report``'s paragraphs drawn onto Letter-size grey pages."""
    from PIL import Image, ImageDraw, ImageFont

    pixels_per_point = SCAN_DPI / 72
    face = ImageFont.truetype(font[0], round(FONT_PT * pixels_per_point), index=font[1])
    margin, line_step = round(72 * pixels_per_point), round(FONT_PT * 1.6 * pixels_per_point)
    size = (round(612 * pixels_per_point), round(792 * pixels_per_point))
    lines = [line for paragraph in report.paragraphs for line in [*textwrap.wrap(paragraph.text, CHARS_PER_LINE), ""]]
    pages, per_page = [], (size[1] - 2 * margin) // line_step
    for first in range(0, SCAN_PAGES * per_page, per_page):
        page = Image.new("L", size, 255)
        draw = ImageDraw.Draw(page)
        for row, line in enumerate(lines[first:first + per_page]):
            draw.text((margin, margin + row * line_step), line, font=face, fill=0)
        pages.append(page)
    pages[0].save(target, save_all=True, append_images=pages[1:], resolution=SCAN_DPI)
    return target
