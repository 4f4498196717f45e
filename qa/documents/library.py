"""A library of reports: every supported file under a folder, or a single file.

Each file is a :class:`~qa.documents.document.Document` named by its ``source``: its path relative to the
library folder (its file name for a single file; ``uploads/<name>`` for a file added in the
browser). Files that cannot be read are kept aside with their reason and skipped; the rest of
the library works. All passages of all documents form one flat sequence, the unit retrieval
and answers work on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.documents.cache import DocumentCache, PreparedDocument
from qa.documents.document import Document, Paragraph, Section
from qa.documents.ingest import SUPPORTED_SUFFIXES, ReportError

UPLOADS_PREFIX = "uploads/"


@dataclass(frozen=True)
class Unreadable:
    """A file of the library that could not be read, and why (one line)."""

    source: str
    error: str


@dataclass(frozen=True)
class LibraryPassage:
    """One paragraph of the library with its document.

    Attributes:
        index: position among all passages of the library, from 0.
        document: the document it belongs to.
        paragraph: the paragraph itself.
        normalized: its passage text (context lines and paragraph) normalized, for matching.
        words: the jieba words of its passage text (see :class:`qa.documents.cache.PreparedDocument`).
    """

    index: int
    document: Document
    paragraph: Paragraph
    normalized: str
    words: tuple[str, ...]

    @property
    def section(self) -> Section:
        """The section that holds the paragraph."""
        return self.document.section_of(self.paragraph)


def summary(document: Document, indexed: bool) -> dict[str, object]:
    """A document's ``list`` object: source, title, format, sections, paragraphs, indexed, and
    ``pages`` (a PDF's page count, else None); a PDF with pages where nothing could be read
    (neither a text layer nor OCR) also lists them as ``empty_pages``."""
    layout = document.layout
    row: dict[str, object] = {
        "source": document.source,
        "title": document.title,
        "format": document.format,
        "sections": len(document.sections),
        "paragraphs": len(document.paragraphs),
        "indexed": indexed,
        "pages": len(layout.sizes) if layout else None,
    }
    if layout and layout.empty_pages:
        row["empty_pages"] = list(layout.empty_pages)
    return row


def is_report_file(path: Path) -> bool:
    """A file of a supported type that is neither hidden nor an editor's lock file (``~$x.docx``)."""
    return path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and not path.name.startswith((".", "~$"))


def scan(root: Path, prefix: str = "") -> tuple[list[tuple[Path, str]], list[Unreadable]]:
    """(file, source) of every report file under folder ``root``, recursively, sorted by source;
    and the symbolic links not followed, with their reason.

    Hidden folders are skipped. ``prefix`` is put before each source (``uploads/``). A symbolic
    link is followed only to a file inside ``root``; one that leads outside or nowhere is skipped.
    A link to a folder inside is not descended: its files are read under their own path.
    """
    found, skipped = [], []
    inside = root.resolve()
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts[:-1]) or path.name.startswith("."):
            continue
        source = prefix + relative.as_posix()
        if path.is_symlink():
            reason = _link_problem(path, inside)
            if reason:
                skipped.append(Unreadable(source, reason))
                continue
        if is_report_file(path):
            found.append((path, source))
    return sorted(found, key=lambda item: item[1]), sorted(skipped, key=lambda item: item.source)


def _link_problem(link: Path, inside: Path) -> str | None:
    """Why symbolic link ``link`` is not followed, or None when it leads to a place inside ``inside``."""
    try:
        target = link.resolve()
    except (OSError, RuntimeError):  # a loop of links
        return "skipped: a symbolic link that leads nowhere"
    if not target.exists():
        return "skipped: a symbolic link that leads nowhere"
    if not target.is_relative_to(inside):
        return "skipped: a symbolic link to a place outside the library folder"
    return None


def library_files(
    report: Path, extra_roots: Iterable[tuple[Path, str]] = ()
) -> tuple[list[tuple[Path, str]], list[Unreadable]]:
    """The (file, source) pairs of a library given as a file or a folder, plus extra folders,
    and the symbolic links skipped in them (see :func:`scan`).

    Raises :class:`ReportError` for a missing path or a folder without any report file.
    """
    skipped: list[Unreadable] = []
    if report.is_dir():
        files, skipped = scan(report)
    elif report.is_file():
        files = [(report, report.name)]
    else:
        raise ReportError(f"{report}: no such report file or folder")
    for root, prefix in extra_roots:
        if root.is_dir():
            more_files, more_skipped = scan(root, prefix)
            files += more_files
            skipped += more_skipped
    if not files and not skipped:
        suffixes = ", ".join(sorted({s.lstrip(".") for s in SUPPORTED_SUFFIXES}))
        raise ReportError(f"{report}: no report file in this folder (expected {suffixes})")
    return files, skipped


class Library:
    """Readable documents in source order, the unreadable files, and all passages in one sequence."""

    def __init__(self, prepared: Sequence[PreparedDocument], unreadable: Sequence[Unreadable] = ()) -> None:
        self.prepared = tuple(prepared)
        self.documents = tuple(p.document for p in self.prepared)
        self.unreadable = tuple(unreadable)
        self._by_source = {document.source: i for i, document in enumerate(self.documents)}
        passages = []
        starts = []
        for item in self.prepared:
            starts.append(len(passages))
            for paragraph, normalized, words in zip(item.document.paragraphs, item.normalized, item.words):
                passages.append(LibraryPassage(len(passages), item.document, paragraph, normalized, words))
        self.passages = tuple(passages)
        self.document_of_passage = np.repeat(
            np.arange(len(self.prepared)), [len(p.document.paragraphs) for p in self.prepared]
        ).astype(np.int32)
        self.starts = tuple(starts)

    def __len__(self) -> int:
        return len(self.passages)

    def spellings(self) -> Iterator[tuple[str, str]]:
        """Each Chinese word of the passages with its toneless pinyin, as the documents' cache
        holds them (repeats included)."""
        for item in self.prepared:
            yield from item.spellings()

    @property
    def sources(self) -> tuple[str, ...]:
        """Every readable document's source, in order."""
        return tuple(d.source for d in self.documents)

    def document(self, source: str) -> Document:
        """The document named ``source``; raises KeyError for an unknown one."""
        return self.documents[self._by_source[source]]

    def prepared_document(self, source: str) -> PreparedDocument:
        """The prepared document (with its file's hash) named ``source``; raises KeyError for an unknown one."""
        return self.prepared[self._by_source[source]]

    def passage_mask(self, sources: Iterable[str]) -> np.ndarray:
        """Boolean mask over passages: True for those of the named documents.

        Raises :class:`KeyError` naming the first unknown source.
        """
        wanted = []
        for source in sources:
            if source not in self._by_source:
                raise KeyError(source)
            wanted.append(self._by_source[source])
        return np.isin(self.document_of_passage, wanted)

    def passage_of(self, source: str, paragraph_index: int) -> LibraryPassage:
        """The library passage of a document's paragraph (``Paragraph.index``)."""
        return self.passages[self.starts[self._by_source[source]] + paragraph_index]


def read_library(report: Path, home: Path, extra_roots: Iterable[tuple[Path, str]] = ()) -> Library:
    """Read every report file of ``report`` (a file or a folder) and of ``extra_roots``.

    A single file that cannot be read raises :class:`ReportError`; in a folder it is listed as
    :class:`Unreadable` and skipped.
    """
    cache = DocumentCache(home)
    files, unreadable = library_files(report, extra_roots)
    prepared = []
    for path, source in files:
        try:
            prepared.append(cache.read(path, source))
        except ReportError as error:
            if not report.is_dir():
                raise
            unreadable.append(Unreadable(source, _reason(error, path)))
        except OSError as error:
            unreadable.append(Unreadable(source, error.strerror or str(error)))
    cache.flush()
    return Library(prepared, unreadable)


def _reason(error: ReportError, path: Path) -> str:
    """The error's message without the file path it may start with."""
    message = str(error)
    for prefix in (f"{path}: ", f"{path.name}: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message
