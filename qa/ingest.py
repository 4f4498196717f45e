"""Turn a report file into a :class:`~qa.document.Document`.

Steps: bytes -> text (charset detection) -> blocks (runs of separator whitespace) ->
headings and paragraphs -> sentences. Detection is generic: a heading is a short block
without sentence punctuation, a Markdown ``#`` line, or a punctuation-free tail glued to
the end of a paragraph (``…发展路子”。厦门检验检疫局党组敢想爱拼赢荣誉``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer

from qa.document import Document, Paragraph, Section, Sentence

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown")
MAX_HEADING_CHARS = 40
MIN_GLUED_HEADING_CHARS = 4

# Paragraph separators: a line break (with the blanks around it) or a run of two or more
# blanks, which covers the non-breaking-space runs of pages copied from the web.
_SEPARATOR = re.compile(r"\s*\n\s*|\s{2,}")
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})[ \t\u3000]+(.+?)[ \t#]*$")
_SENTENCE_END = "。！？!?…"
_CLOSERS = "”’」』）)】》\"'"
_PUNCTUATION = set("，。！？；：、,.!?;:…“”‘’「」『』（）()【】《》\"'—")
# A sentence ends after terminal punctuation plus any closing quotes or brackets; an ASCII
# period only when followed by a blank or the end (not in "1.5" or "ISO9001.").
_SENTENCE = re.compile(
    rf"[^{_SENTENCE_END}]*?(?:[{_SENTENCE_END}]+|\.(?=\s|$))[{re.escape(_CLOSERS)}]*|[^{_SENTENCE_END}]+$"
)


class ReportError(ValueError):
    """A report that cannot be read; the message is one line meant for a person."""


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Heading:
    kind: str  # "markdown<N>", "line", "glued" or "preamble"
    start: int
    end: int
    text: str


# --- bytes to text -------------------------------------------------------------------------


def decode_report(data: bytes, name: str = "report") -> str:
    """Decode report bytes to normalized text: BOM removed, line breaks as ``\\n``.

    UTF-8 (with or without BOM) is tried first; anything else is identified with
    charset-normalizer (GB18030/GBK and friends). Raises :class:`ReportError` for empty,
    binary or undecodable input.
    """
    if not data.strip():
        raise ReportError(f"{name}: the file is empty")
    if b"\x00" in data[:65536]:
        raise ReportError(f"{name}: looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(data).best()
        if best is None:
            raise ReportError(f"{name}: cannot detect the text encoding") from None
        text = str(best)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if _control_ratio(text) > 0.01:
        raise ReportError(f"{name}: looks like a binary file, not text")
    if not text.strip():
        raise ReportError(f"{name}: the file is empty")
    return text


def _control_ratio(text: str) -> float:
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\t\f\v")
    return controls / max(len(text), 1)


def read_report(path: str | Path) -> Document:
    """Read a ``.txt``/``.md`` report (or the first such file of a folder) into a Document."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
        if not files:
            raise ReportError(f"{path}: no .txt or .md report in this folder")
        path = files[0]
    if not path.is_file():
        raise ReportError(f"{path}: no such report file")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ReportError(f"{path}: unsupported file type (expected .txt or .md)")
    text = decode_report(path.read_bytes(), name=str(path))
    return parse_report(text, source=str(path), markdown=path.suffix.lower() != ".txt")


# --- text to structure ---------------------------------------------------------------------


def parse_report(text: str, source: str = "", markdown: bool = False) -> Document:
    """Recover title, sections, sub-headings, paragraphs and sentences from normalized text."""
    blocks = _split_blocks(text)
    if not blocks:
        raise ReportError(f"{source or 'report'}: the report has no text")
    items: list[_Block | _Heading] = []
    for block in blocks:
        items.extend(_classify(block, markdown))
    title, items = _take_title(items)
    untitled = _Heading("none", 0, 0, "")
    sections = _assemble(items, _section_kinds(items), title or untitled)
    if not any(section.paragraphs for section in sections):
        raise ReportError(f"{source or 'report'}: the report has headings but no body paragraphs")
    return Document(title=(title or untitled).text, text=text, sections=sections, source=source)


def _split_blocks(text: str) -> list[_Block]:
    blocks = []
    position = 0
    for separator in [*_SEPARATOR.finditer(text), None]:
        end = separator.start() if separator else len(text)
        start, stop = _strip_span(text, position, end)
        if start < stop:
            blocks.append(_Block(start, stop, text[start:stop]))
        position = separator.end() if separator else len(text)
    return blocks


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_heading_like(text: str, max_chars: int = MAX_HEADING_CHARS) -> bool:
    """Short, and free of the punctuation that ends or joins sentences."""
    return 0 < len(text) <= max_chars and not any(ch in "。！？!?；;，," for ch in text) and text[-1] not in "：:、…"


def _classify(block: _Block, markdown: bool) -> list[_Block | _Heading]:
    if markdown:
        match = _MARKDOWN_HEADING.match(block.text)
        if match:
            start = block.start + match.start(2)
            return [_Heading(f"markdown{len(match.group(1))}", start, block.start + match.end(2), match.group(2))]
    if _is_heading_like(block.text):
        return [_Heading("line", block.start, block.end, block.text)]
    glued = _glued_heading_start(block.text)
    if glued is None:
        return [block]
    body_end = block.start + len(block.text[:glued].rstrip())
    return [
        _Block(block.start, body_end, block.text[:glued].rstrip()),
        _Heading("glued", block.start + glued, block.end, block.text[glued:]),
    ]


def _glued_heading_start(text: str) -> int | None:
    """Offset where a heading glued after the paragraph's last sentence begins, if any."""
    last_end = max(text.rfind(ch) for ch in _SENTENCE_END)
    if last_end < 0:
        return None
    tail_start = last_end + 1
    while tail_start < len(text) and text[tail_start] in _CLOSERS:
        tail_start += 1
    tail = text[tail_start:].strip()
    if len(tail) < MIN_GLUED_HEADING_CHARS or not _is_heading_like(tail):
        return None
    if any(ch in _PUNCTUATION for ch in tail):
        return None
    return tail_start + (len(text[tail_start:]) - len(text[tail_start:].lstrip()))


def _take_title(items: list[_Block | _Heading]) -> tuple[_Heading | None, list[_Block | _Heading]]:
    """Split the preamble (headings before the first paragraph) into title and first heading.

    A web page copied as text often repeats the page title: ``A`` then ``<title>A``. When a
    preamble line ends with an earlier one, the prefix is the title and the suffix opens the
    first section. Otherwise the first preamble line is the title and the last one (if there
    are more) opens the first section.
    """
    preamble = []
    for item in items:
        if isinstance(item, _Block):
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


def _section_kinds(items: list[_Block | _Heading]) -> set[str]:
    """Heading kinds that open a section; every other heading kind is a sub-heading."""
    kinds = {item.kind for item in items if isinstance(item, _Heading)}
    markdown_levels = sorted(int(kind[8:]) for kind in kinds if kind.startswith("markdown"))
    if markdown_levels:
        return {f"markdown{markdown_levels[0]}", "preamble"}
    if "glued" in kinds:
        return {"glued", "preamble"}
    return {"line", "preamble"}


def _assemble(items: list[_Block | _Heading], section_kinds: set[str], title: _Heading) -> tuple[Section, ...]:
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
