"""Web page reports (.html, .htm): the main content, found by trafilatura.

trafilatura keeps a page's headings only when it finds the content in an article-like
container; on a plain page (``<body>`` holding ``<h1>``-``<h3>`` and ``<p>`` directly, as
exported reports are) it returns the paragraphs without their headings. So its result is used
when it kept the headings or the page has none; otherwise the page body is read instead, with
navigation, scripts, styles, forms and the like left out. Script and style content never
becomes text.

``<h1>``-``<h6>`` are headings of their level, ``<title>`` the title (the first heading takes
its place when the title contains it, as in ``报告名 - 网站名``); ``<br>`` separates blocks; each
table row is one body paragraph with its cells joined by `` | ``. Other blocks go through the
general rules of :mod:`qa.documents.structure`. ``Document.text`` is the blocks joined with blank lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import trafilatura
from lxml import etree

from qa.documents.document import Document
from qa.documents.ingest import ReportError, decode_report
from qa.documents.structure import Piece, build_document, join_blocks, table_row_text

# Both vocabularies are read: HTML and trafilatura's XML (head, list/item, row/cell, lb, hi).
_SKIP = {
    "script", "style", "noscript", "template", "nav", "aside", "footer", "form",
    "button", "select", "textarea", "iframe", "object", "svg", "canvas", "math",
}  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_ROWS = {"tr", "row"}
_CELLS = {"td", "th", "cell"}
_BREAKS = {"br", "lb", "hr"}
_INLINE = {
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "hi", "i",
    "img", "ins", "kbd", "label", "mark", "q", "ref", "rp", "rt", "ruby", "s", "samp", "small",
    "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr",
}  # fmt: skip
_BLANKS = re.compile(r"[ \t\n\r\f]+")  # HTML collapses these; a no-break space is kept


def read(path: Path, source: str) -> Document:
    """Read an .html/.htm file."""
    html = decode_report(path.read_bytes(), name=source)
    page = trafilatura.load_html(html)
    body = None if page is None else page.find("body")
    if body is None:
        raise ReportError(f"{source}: not an HTML page")
    pieces = _content_pieces(html, body)
    text, blocks = join_blocks(_with_title(pieces, _page_title(page)))
    return build_document(text, blocks, source, "html")


def _content_pieces(html: str, body: etree._Element) -> list[Piece]:
    """trafilatura's main content if it kept the headings (or there are none), else the body."""
    extracted = trafilatura.extract(html, output_format="xml", include_formatting=True, include_tables=True)
    main = None if extracted is None else etree.fromstring(extracted.encode("utf-8")).find("main")
    if main is not None:
        pieces = list(_walk(main))
        if any(piece.role == "heading" for piece in pieces) or not body.xpath(".//h1|.//h2|.//h3"):
            return pieces
    return list(_walk(body))


def _page_title(page: etree._Element) -> str:
    return _BLANKS.sub(" ", page.findtext(".//title") or "").strip()


def _with_title(pieces: list[Piece], title: str) -> list[Piece]:
    """Mark the title: the first heading when ``<title>`` contains it, else ``<title>`` itself."""
    if pieces and pieces[0].role == "heading" and pieces[0].text in title:
        return [Piece(pieces[0].text, "title"), *pieces[1:]]
    return [Piece(title, "title"), *pieces] if title else pieces


def _walk(root: etree._Element) -> Iterator[Piece]:
    """The non-empty blocks of an element tree in reading order."""
    run = [root.text or ""]
    for piece in [*_visit(root, run), _flush(run)]:
        if piece.text:
            yield piece


def _visit(element: etree._Element, run: list[str]) -> Iterator[Piece]:
    """Pieces from ``element``'s content; inline text accumulates in ``run`` until a block ends."""
    for child in element:
        tag = _tag(child)
        if not tag or tag in _SKIP:
            pass
        elif tag in _HEADINGS or tag == "head":
            yield _flush(run)
            yield Piece(_text_of(child), "heading", _HEADINGS.get(tag) or _HEADINGS.get(child.get("rend", ""), 2))
        elif tag in _ROWS:
            yield _flush(run)
            yield Piece(table_row_text(_text_of(cell) for cell in child if _tag(cell) in _CELLS), "body")
        elif tag in _BREAKS:
            yield _flush(run)
        elif tag in _INLINE:
            run.append(child.text or "")
            yield from _visit(child, run)
        else:
            yield _flush(run)
            run.append(child.text or "")
            yield from _visit(child, run)
            yield _flush(run)
        run.append(child.tail or "")


def _tag(element: etree._Element) -> str:
    """The lower-case tag name; empty for a comment or processing instruction."""
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _text_of(element: etree._Element) -> str:
    return _BLANKS.sub(" ", "".join(element.itertext())).strip()


def _flush(run: list[str]) -> Piece:
    """The text gathered so far as one piece (maybe empty); ``run`` is emptied."""
    text = _BLANKS.sub(" ", "".join(run)).strip()
    run.clear()
    return Piece(text)
