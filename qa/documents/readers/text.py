"""Plain text and Markdown reports (.txt, .md, .markdown).

The document text is the decoded file itself. Blocks are separated by line breaks or runs of
blanks; in Markdown a ``#`` line is a heading of its level (the markers are not part of it).
Everything else goes through the general rules of :mod:`qa.documents.structure`.
"""

from __future__ import annotations

import re
from pathlib import Path

from qa.documents.document import Document
from qa.documents.ingest import decode_report
from qa.documents.structure import Block, build_document, split_blocks

_MARKDOWN_HEADING = re.compile(r"^(#{1,6})[ \t\u3000]+(.+?)[ \t#]*$")


def read(path: Path, source: str) -> Document:
    """Read a .txt or Markdown file."""
    markdown = path.suffix.lower() != ".txt"
    return parse_report(decode_report(path.read_bytes(), name=source), source=source, markdown=markdown)


def parse_report(text: str, source: str = "", markdown: bool = False) -> Document:
    """Recover the structure of normalized report text (Markdown headings when ``markdown``)."""
    blocks = split_blocks(text)
    if markdown:
        blocks = [_markdown_heading(block) or block for block in blocks]
    return build_document(text, blocks, source, "md" if markdown else "txt")


def _markdown_heading(block: Block) -> Block | None:
    match = _MARKDOWN_HEADING.match(block.text)
    if match is None:
        return None
    start = block.start + match.start(2)
    return Block(start, block.start + match.end(2), match.group(2), "heading", len(match.group(1)))
