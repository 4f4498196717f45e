"""One reader per file format; each turns one file into a :class:`~qa.documents.document.Document`.
May import only ``qa.documents`` (model, ingest, structure) and ``qa.language``; each its parser when a file needs it.

A reader module has ``read(path: Path, source: str) -> Document``. Its parser library
(python-docx, pdfplumber, trafilatura) is imported only when a file of that format is read,
so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from qa.documents.document import Document

READER_MODULES = {
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".docx": "docx",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
}


def load_reader(suffix: str) -> Callable[[Path, str], Document]:
    """The ``read`` function of the reader for a file suffix (lower case, with the dot)."""
    return importlib.import_module(f"qa.documents.readers.{READER_MODULES[suffix]}").read
