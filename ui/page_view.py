"""The "原文页面" view: the original page of a cited PDF passage, as safe HTML.

A page is its rendered image (a PNG inlined as a ``data:`` URI: only pixels come from the PDF)
with the marks of :class:`qa.PageView` over it: the passage's area outlined, its highlighted
sentences filled, its answer span filled more strongly. Marks are placed in percentages of the
page, so the zoom (the page frame's width, set in the browser) keeps them on their characters. A
passage that runs onto the next page shows both pages; previous/next show the neighbouring page.

The page asks for a view through :func:`page_request` strings (``rank:page``, sent by the page's
script when a citation or a previous/next button is clicked); :func:`page_panel` answers them.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from qa import Answer, Assistant, PageView, Passage, ReportError, UnknownDocument
from ui.render import esc

KIND_LABELS = {"passage": "引用段落", "sentence": "答句", "answer": "答案"}


def page_request(rank: int, page: int | None = None) -> str:
    """The request for passage ``rank``'s page ``page`` (default: the pages the passage is on)."""
    return f"{rank}:{'' if page is None else page}"


def parse_request(request: str | None) -> tuple[int, int | None] | None:
    """(rank, page or None) of a request (anything after a second ``:`` is ignored); None when malformed."""
    parts = (request or "").split(":")
    if len(parts) < 2 or not parts[0].isdigit() or not (parts[1] == "" or parts[1].isdigit()):
        return None
    return int(parts[0]), int(parts[1]) if parts[1] else None


def page_panel(assistant: Assistant, answer: Answer | None, request: str | None) -> str:
    """The page view's HTML for a request about ``answer`` (the last one shown in this session)."""
    parsed = parse_request(request)
    if answer is None or parsed is None or not 1 <= parsed[0] <= len(answer.passages):
        return placeholder_html()
    rank, page = parsed
    passage = answer.passages[rank - 1]
    citation = passage.citation
    if citation.page is None:
        return notice_html(f"第 {rank} 段证据出自非 PDF 文件（{citation.source}），没有原文页面；请看“全文”。")
    pages = [page] if page else list(range(citation.page, (citation.page_end or citation.page) + 1))
    try:
        views = [assistant.page_view(passage, number) for number in pages]
    except (ReportError, UnknownDocument, OSError) as error:
        return notice_html(f"无法显示原文页面：{error}")
    return pages_html(views, passage, rank)


def pages_html(views: Sequence[PageView], passage: Passage, rank: int) -> str:
    """Consecutive pages of one document, each with its marks, under a bar: which pages, the
    passage cited, previous/next page and zoom."""
    first, last = views[0], views[-1]
    numbers = f"{first.number}" if first is last else f"{first.number}–{last.number}"
    scanned = " · OCR 识别" if any(view.ocr for view in views) else ""
    bar = (
        '<div class="page-bar">'
        f'{_nav_button("上一页", rank, first.number - 1, first.count)}'
        f'<span class="page-no">第 {numbers} / {first.count} 页{scanned}</span>'
        f'{_nav_button("下一页", rank, last.number + 1, first.count)}'
        '<span class="page-zoom-group">'
        '<button type="button" class="page-zoom" data-zoom="-1" title="缩小">−</button>'
        '<span class="zoom-level"></span>'
        '<button type="button" class="page-zoom" data-zoom="1" title="放大">＋</button>'
        "</span></div>"
    )
    cited = (
        f'<div class="page-cited">第 {rank} 段证据：《{esc(passage.citation.document or passage.citation.source)}》'
        f" {esc(passage.citation.label)}</div>"
    )
    frames = "".join(_frame(view) for view in views)
    return (
        f'<div class="page-view" data-rank="{rank}" data-source="{esc(first.source)}">'
        f'{bar}{cited}<div class="page-scroll">{frames}</div></div>'
    )


def _nav_button(label: str, rank: int, page: int, count: int) -> str:
    disabled = "" if 1 <= page <= count else " disabled"
    return f'<button type="button" class="page-nav" data-request="{page_request(rank, page)}"{disabled}>{label}</button>'


def _frame(view: PageView) -> str:
    """One page: its image with the marks over it, placed in percentages of the page."""
    image = base64.b64encode(view.image.read_bytes()).decode("ascii")
    marks = "".join(
        f'<div class="page-mark {mark.kind}" title="{KIND_LABELS[mark.kind]}" '
        f'style="left:{100 * mark.left:.3f}%;top:{100 * mark.top:.3f}%;'
        f'width:{100 * (mark.right - mark.left):.3f}%;height:{100 * (mark.bottom - mark.top):.3f}%"></div>'
        for mark in view.marks
    )
    return (
        f'<div class="page-frame" data-page="{view.number}" style="aspect-ratio:{view.width:.2f}/{view.height:.2f}">'
        f'<img class="page-image" alt="第 {view.number} 页" src="data:image/png;base64,{image}">{marks}</div>'
    )


def notice_html(message: str) -> str:
    """The page view when there is no page to show, and why."""
    return f'<div class="page-view empty">{esc(message)}</div>'


def placeholder_html() -> str:
    """The page view before any PDF citation is chosen."""
    return notice_html("点击 PDF 证据的出处，这里显示原文页面，引用段落和答句在页面上标出。")
