"""Turn one report file into a :class:`~qa.documents.document.Document`.

:func:`read_report` picks the reader for the file's suffix (``qa.documents.readers``: .txt/.md, .docx,
.pdf, .html); each reader extracts blocks of text and hands them to :mod:`qa.documents.structure`, which
recovers title, sections, paragraphs and sentences. Any file that cannot be read raises
:class:`ReportError` with a one-line reason.
"""

from __future__ import annotations

from pathlib import Path

import charset_normalizer

from qa.documents.document import Document
from qa.documents.readers import READER_MODULES, load_reader
from qa.documents.readers.limits import TooCostly

SUPPORTED_SUFFIXES = tuple(READER_MODULES)
_EXPECTED = "expected .txt, .md, .docx, .pdf, .html"


class ReportError(ValueError):
    """A report that cannot be read; the message is one line meant for a person."""


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


def read_report(path: str | Path, source: str | None = None) -> Document:
    """Read one report file (.txt, .md, .docx, .pdf, .html) into a Document.

    ``source`` (default: the file name) labels the document and its error messages. Given a
    folder, the first supported file in sorted order is read. Raises :class:`ReportError` with
    a one-line reason for a missing, unsupported, empty or damaged file.
    """
    path = Path(path)
    if path.is_dir():
        path = _first_report(path)
    if not path.is_file():
        raise ReportError(f"{path}: no such report file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ReportError(f"{path}: unsupported file type ({_EXPECTED})")
    label = source or path.name
    reader = load_reader(suffix)
    try:
        return reader(path, label)
    except ReportError:
        raise
    except TooCostly as error:
        raise ReportError(f"{label}: refused: {error}") from error
    except Exception as error:  # parsers of damaged files fail in many ways; report them as one line
        raise ReportError(f"{label}: cannot read this {suffix} file ({error_reason(error)})") from error


def error_reason(error: BaseException) -> str:
    """The first line of an exception's message, or its type name when it has none."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _first_report(folder: Path) -> Path:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    if not files:
        raise ReportError(f"{folder}: no report file in this folder ({_EXPECTED})")
    return files[0]
