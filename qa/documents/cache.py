"""Reports read once: each file's structure, passage words and normalized passages, cached on disk.

A library start opens hundreds of files; parsing a PDF or tokenizing a report costs far more
than reading back the result. ``$REPORT_QA_HOME/documents/<sha256 of the file>.json`` holds a
file's :class:`PreparedDocument`; ``stats.json`` remembers each path's size, mtime and hash, so
an unchanged file is recognised without reading it, and a touched one by its hash. A damaged
or outdated cache entry is simply prepared again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from embeddings.home import atomic_write, read_json_object
from qa.documents.document import Document, Paragraph, Section, Sentence
from qa.documents.ingest import read_report
from qa.documents.layout import Layout
from qa.documents.passages import passage_text
from qa.language.textnorm import Tokenizer, han_words, normalize, quoted_terms, romanized

CACHE_VERSION = 3  # 2: words and their pinyin apart; 3: a PDF's layout (pages, line positions)
DOCUMENTS_DIR = "documents"
STATS_FILE = "stats.json"


@dataclass(frozen=True)
class PreparedDocument:
    """A document with what indexing needs of each of its passages (see :mod:`qa.documents.passages`).

    Attributes:
        document: the parsed report.
        sha256: hash of the file's bytes.
        words: per paragraph, the jieba tokens of its passage text (what the answer checks read).
        pinyin: per paragraph, the pinyin of its Chinese words (see :func:`qa.language.textnorm.romanized`).
        normalized: per paragraph, its passage text normalized (see :func:`qa.language.textnorm.normalize`).
    """

    document: Document
    sha256: str
    words: tuple[tuple[str, ...], ...]
    pinyin: tuple[tuple[str, ...], ...]
    normalized: tuple[str, ...]

    @property
    def passages(self) -> list[str]:
        """The indexed text of each paragraph."""
        return [passage_text(self.document, p) for p in self.document.paragraphs]

    def spellings(self) -> Iterator[tuple[str, str]]:
        """Each Chinese word of each paragraph with its toneless pinyin (repeats included)."""
        for words, pinyin in zip(self.words, self.pinyin):
            yield from zip(han_words(words), pinyin)

    @property
    def tokens(self) -> list[tuple[str, ...]]:
        """Per paragraph, its BM25 index tokens: its words, then their pinyin (see
        :func:`qa.retrieval.lexical.index_tokens`)."""
        return [words + pinyin for words, pinyin in zip(self.words, self.pinyin)]


def prepare(document: Document, sha256: str) -> PreparedDocument:
    """Tokenize and normalize a document's passages (its own quoted terms taught to jieba)."""
    passages = [passage_text(document, p) for p in document.paragraphs]
    tokenizer = Tokenizer(quoted_terms(passages))
    words = tuple(tuple(tokenizer.tokenize(p)) for p in passages)
    return PreparedDocument(
        document=document,
        sha256=sha256,
        words=words,
        pinyin=tuple(tuple(romanized(w)) for w in words),
        normalized=tuple(normalize(p) for p in passages),
    )


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class DocumentCache:
    """Prepared documents under ``home/documents/``, found by file content.

    Call :meth:`flush` after a batch of :meth:`read` calls to remember the files' stats.
    """

    def __init__(self, home: Path) -> None:
        self.directory = Path(home) / DOCUMENTS_DIR
        self._stats_path = self.directory / STATS_FILE
        self._stats = read_json_object(self._stats_path)
        self._stats_changed = False

    def read(self, path: Path, source: str) -> PreparedDocument:
        """The prepared document of file ``path`` named ``source``; raises ``ReportError`` for
        a file that cannot be read as a report."""
        sha256 = self.sha256(path)
        cached = self._load(sha256)
        if cached is None:
            cached = prepare(read_report(path, source=source), sha256)
            self._save(cached)
        if cached.document.source != source:
            cached = replace(cached, document=replace(cached.document, source=source))
        return cached

    def sha256(self, path: Path) -> str:
        """The file's hash: remembered when size and mtime are unchanged, computed otherwise."""
        key = str(path.resolve())
        stat = path.stat()
        known = self._stats.get(key)
        if isinstance(known, list) and known[:2] == [stat.st_size, stat.st_mtime_ns]:
            return known[2]
        sha256 = file_sha256(path)
        self._stats[key] = [stat.st_size, stat.st_mtime_ns, sha256]
        self._stats_changed = True
        return sha256

    def forget(self, sha256: str) -> None:
        """Delete the prepared document of the file with this hash, if cached."""
        (self.directory / f"{sha256}.json").unlink(missing_ok=True)

    def flush(self) -> None:
        """Write the remembered file stats (atomically) if any changed, forgetting vanished files."""
        if self._stats_changed:
            self._stats = {key: value for key, value in self._stats.items() if Path(key).exists()}
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_write(self._stats_path, json.dumps(self._stats).encode("utf-8"))
            self._stats_changed = False

    def _load(self, sha256: str) -> PreparedDocument | None:
        data = read_json_object(self.directory / f"{sha256}.json")
        if data.get("version") != CACHE_VERSION:
            return None
        try:
            return _from_dict(data)
        except (KeyError, TypeError, ValueError, IndexError):
            return None

    def _save(self, prepared: PreparedDocument) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        data = json.dumps(_to_dict(prepared), ensure_ascii=False).encode("utf-8")
        atomic_write(self.directory / f"{prepared.sha256}.json", data)


# --- serialization: offsets only, texts are cut back out of the document text ------------------


def _to_dict(prepared: PreparedDocument) -> dict[str, Any]:
    document = prepared.document
    return {
        "version": CACHE_VERSION,
        "sha256": prepared.sha256,
        "title": document.title,
        "text": document.text,
        "format": document.format,
        "layout": document.layout.as_dict() if document.layout else None,
        "sections": [
            {
                "heading": [section.heading_start, section.heading_end, section.heading],
                "subheadings": list(section.subheadings),
                "paragraphs": [
                    [p.start, p.end, p.subsection, [[s.start, s.end] for s in p.sentences]] for p in section.paragraphs
                ],
            }
            for section in document.sections
        ],
        "words": [list(words) for words in prepared.words],
        "pinyin": [list(pinyin) for pinyin in prepared.pinyin],
        "normalized": list(prepared.normalized),
    }


def _from_dict(data: dict[str, Any]) -> PreparedDocument:
    text = data["text"]
    sections = []
    count = 0
    for section_index, section in enumerate(data["sections"]):
        paragraphs = []
        for number, (start, end, subsection, sentences) in enumerate(section["paragraphs"], start=1):
            paragraphs.append(
                Paragraph(
                    index=count,
                    section_index=section_index,
                    number=number,
                    subsection=subsection,
                    start=start,
                    end=end,
                    text=text[start:end],
                    sentences=tuple(Sentence(s, e, text[s:e]) for s, e in sentences),
                )
            )
            count += 1
        heading_start, heading_end, heading = section["heading"]
        sections.append(
            Section(section_index, heading, heading_start, heading_end, tuple(section["subheadings"]), tuple(paragraphs))
        )
    layout = Layout.from_dict(data["layout"]) if data["layout"] else None
    document = Document(title=data["title"], text=text, sections=tuple(sections), format=data["format"], layout=layout)
    words = tuple(tuple(w) for w in data["words"])
    pinyin = tuple(tuple(p) for p in data["pinyin"])
    normalized = tuple(data["normalized"])
    if not len(words) == len(pinyin) == len(normalized) == count:
        raise ValueError("cache entry does not match its document")
    return PreparedDocument(document, data["sha256"], words, pinyin, normalized)
