"""The public facade: ``Assistant(library).ask(question) -> Answer``."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.answers import RERANK_DEPTH, Answerer
from qa.answers.highlight import answer_units
from qa.answers.reader.runtime import Reader, Verdict, load_reader
from qa.answers.unit_vectors import UNITS_FOLDER, unit_vectors
from qa.documents.cache import DocumentCache, PreparedDocument, file_sha256
from qa.documents.ingest import SUPPORTED_SUFFIXES, ReportError
from qa.documents.layout import cited_pages
from qa.documents.library import UPLOADS_PREFIX, Library, read_library, summary
from qa.documents.pages import PageView, forget_pages, page_image, page_marks
from qa.documents.uploads import UPLOADS_DIR, UploadLimits, free_name, safe_name, stage_copy, upload_file
from qa.language.question import clean_question
from qa.results import Answer, Citation, Highlight, Passage
from qa.retrieval.lexical_cache import forget_saved_indexes
from qa.retrieval.retriever import Retriever, RetrieverName
from qa.team.access import ANONYMOUS
from qa.team.audit import AuditLog

if TYPE_CHECKING:
    from embeddings import TextEncoder
    from qa.retrieval.store_retriever import StoreRetriever

SEED_REPORTS = Path(__file__).resolve().parent.parent / "seeds"
DEFAULT_TOP_K = 3
WARM_UP_QUESTIONS = ("报告中有多少名员工？", "How many staff work in the office?")


def default_report() -> Path:
    """The shipped library: the ``seeds/`` folder."""
    return SEED_REPORTS


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class UnknownDocument(KeyError):
    """A question limited to a source the library does not hold."""

    def __str__(self) -> str:
        return f"no document {self.args[0]!r} in the library (see `report-qa list`)"


@dataclass(frozen=True)
class _Indexes:
    """Everything a question reads, built together for one state of the library."""

    library: Library
    retriever: Retriever | StoreRetriever
    answerer: Answerer


class Assistant:
    """Answers questions about a library of reports with verbatim, cited passages.

    Args:
        report: a report file or a folder of them (a library); default: the shipped ``seeds/``.
        retriever: ``"bm25"``, ``"dense"`` or ``"hybrid"`` (default).
        model: encoder model name or path (default: env ``REPORT_QA_MODEL``, else
            multilingual-e5-small prepared offline); unused by ``"bm25"``.
        home: state folder (default: env ``REPORT_QA_HOME``, else the user cache dir).
        uploads: also serve the files added with :meth:`add_report` (kept in ``home/uploads/``);
            each add and remove is recorded in ``home/audit.log`` (:class:`qa.team.audit.AuditLog`).
        limits: how large one upload may be, and all uploads together.
        encoder: an already loaded encoder to share (default: load ``model``).
        log: where one-line notices (documents encoded, model prepared) go.
        progress: show a progress bar while encoding.
        store: where passages are indexed: ``faiss`` (default), ``milvus:PATH.db`` or
            ``http(s)://HOST:PORT`` (default: env ``REPORT_QA_STORE``; see :mod:`embeddings.stores`).
            A Milvus store also loads the encoder with ``"bm25"``: it writes every passage's vector.
    """

    def __init__(
        self,
        report: str | Path | None = None,
        *,
        retriever: RetrieverName = "hybrid",
        model: str | None = None,
        home: str | Path | None = None,
        uploads: bool = False,
        limits: UploadLimits = UploadLimits(),
        encoder: TextEncoder | None = None,
        log: Callable[[str], None] = _stderr,
        progress: bool = False,
        store: str | None = None,
    ) -> None:
        from embeddings import report_qa_home
        from embeddings.stores import open_store

        self.home = Path(home) if home else report_qa_home()
        self.store = open_store(store, self.home)  # first: a bad or unreachable store fails before anything is done
        self.report = Path(report or default_report())
        self.mode = retriever
        self.log = log
        self.progress = progress
        self.uploads = self.home / UPLOADS_DIR if uploads else None
        self.limits = limits
        self.audit = AuditLog(self.home)
        self.encoder: TextEncoder | None = None
        if retriever != "bm25" or not self.store.in_process:
            from embeddings import load_encoder

            self.encoder = encoder or load_encoder(model, home=self.home)
        self.reader = self._load_reader()
        extra = [(self.uploads, UPLOADS_PREFIX)] if self.uploads else []
        library = read_library(self.report, self.home, extra)
        if not library.documents:
            first = library.unreadable[0]
            raise ReportError(f"{self.report}: no readable report ({first.source}: {first.error})")
        self._indexes = self._index(library)
        self._changing = threading.Lock()  # adds and removes run one at a time

    def _load_reader(self) -> Reader | None:
        """The answer reader, on the word embeddings and tokenizer of the prepared default encoder
        (another encoder, or none, answers without it)."""
        word_embeddings = getattr(self.encoder, "word_embeddings", None)
        if word_embeddings is None:
            return None
        return load_reader(self.encoder.folder, self.encoder.tokens, word_embeddings, self.home)

    @property
    def library(self) -> Library:
        """The library as it is now (it changes with :meth:`add_report` and :meth:`remove_report`)."""
        return self._indexes.library

    @property
    def retriever(self) -> Retriever | StoreRetriever:
        return self._indexes.retriever

    @property
    def answerer(self) -> Answerer:
        return self._indexes.answerer

    def _index(self, library: Library) -> _Indexes:
        """Bring the store in step with ``library``; the retriever and answerer over it."""
        from qa.documents.stored import stored_library

        stored = stored_library([self.report, *([self.uploads] if self.uploads else [])], library)
        if self.store.in_process:
            vectors = None
            if self.encoder is not None:
                vectors = self.store.sync(stored, self.encoder, progress=self.progress, log=self.log)
            retriever = Retriever(library, self.mode, encoder=self.encoder, vectors=vectors, home=self.home)
            tokenizer = retriever.lexical.tokenizer
        else:
            from qa.retrieval.store_retriever import StoreRetriever

            collection = self.store.sync(stored, self.encoder, progress=self.progress, log=self.log)
            retriever = StoreRetriever(library, self.mode, self.encoder, collection)
            tokenizer = retriever.tokenizer
        encoder = self.encoder if self.mode != "bm25" else None
        units = None
        if encoder is not None:
            units = unit_vectors(library, encoder, self.home, progress=self.progress, log=self.log)
        answerer = Answerer(library, tokenizer, encoder, retriever.glossary, units, self.reader if encoder else None)
        return _Indexes(library, retriever, answerer)

    def ask(self, question: str, top_k: int = DEFAULT_TOP_K, documents: Sequence[str] | None = None) -> Answer:
        """Answer one question from the whole library, or only from ``documents`` (sources).

        Raises :class:`qa.language.question.QuestionError` for an unaskable question and
        :class:`UnknownDocument` for a source the library does not hold.
        """
        question = clean_question(question)
        indexes = self._indexes  # one consistent state, even while a report is being added
        mask = None
        if documents:
            try:
                mask = indexes.library.passage_mask(documents)
            except KeyError as error:
                raise UnknownDocument(error.args[0]) from None
        candidates = indexes.retriever.search(question, max(top_k, RERANK_DEPTH), mask)
        judgement = indexes.answerer.judge(question, candidates, keep=max(top_k, 1))
        passages = []
        for rank, candidate in enumerate(judgement.candidates, start=1):
            item = indexes.library.passages[candidate.passage_index]
            paragraph, section = item.paragraph, item.section
            page, page_end = cited_pages(item.document.layout, paragraph.start, paragraph.end)
            citation = Citation(
                document=item.document.title,
                source=item.document.source,
                section=section.heading,
                section_number=section.index + 1,
                subsection=paragraph.subsection,
                paragraph=paragraph.number,
                start=paragraph.start,
                end=paragraph.end,
                page=page,
                page_end=page_end,
            )
            verdict = judgement.verdicts.get(candidate.passage_index)
            highlights = indexes.answerer.highlight(question, item, verdict)
            passages.append(
                Passage(
                    rank=rank,
                    score=candidate.score,
                    text=paragraph.text,
                    citation=citation,
                    paragraph_index=paragraph.index,
                    highlights=highlights,
                    signals=candidate.signals,
                    answer=answer_span(paragraph.text, highlights, verdict) if rank == 1 and judgement.answered else None,
                )
            )
        return Answer(question=question, answered=judgement.answered, passages=tuple(passages), reason=judgement.reason)

    def page_view(self, passage: Passage, number: int | None = None) -> PageView:
        """Page ``number`` (default: the one the passage starts on) of the PDF that ``passage``
        cites, rendered as an image (kept under ``home/pages/``) with the passage's area, its
        highlighted sentences and its answer span marked.

        Raises :class:`UnknownDocument` for a source the library does not hold and
        :class:`ReportError` for a document without pages (not a PDF), a page it does not have,
        or a file changed since the library read it.
        """
        source = passage.citation.source
        try:
            prepared = self.library.prepared_document(source)
        except KeyError:
            raise UnknownDocument(source) from None
        layout = prepared.document.layout
        if layout is None:
            raise ReportError(f"{source}: not a PDF; it has no pages to show")
        number = number or passage.citation.page or 1
        if not 1 <= number <= len(layout.sizes):
            raise ReportError(f"{source}: no page {number} (it has {len(layout.sizes)})")
        path = self._file_of(source)
        if DocumentCache(self.home).sha256(path) != prepared.sha256:
            raise ReportError(f"{source}: the file changed since it was read; restart to read it again")
        start = passage.citation.start
        answer = passage.answer
        marks = page_marks(
            layout,
            number,
            (start, passage.citation.end),
            [(start + h.start, start + h.end) for h in passage.highlights],
            (start + answer.start, start + answer.end) if answer else None,
        )
        width, height = layout.sizes[number - 1]
        image = page_image(self.home, path, prepared.sha256, number)
        return PageView(source, number, len(layout.sizes), image, width, height, marks, number in layout.ocr_pages)

    def _file_of(self, source: str) -> Path:
        """The file the library read the document ``source`` from."""
        if source.startswith(UPLOADS_PREFIX) and self.uploads is not None:
            return upload_file(self.uploads, source)
        return self.report / source if self.report.is_dir() else self.report

    def warm_up(self) -> None:
        """Load what the first questions would otherwise load (part-of-speech tagger, CC-CEDICT
        glossary, caches) by asking one Chinese and one English question, and read the first
        passages ahead (see :meth:`Answerer.read_ahead`)."""
        for question in WARM_UP_QUESTIONS:
            self.ask(question)
        self.answerer.read_ahead()

    def summaries(self) -> list[dict[str, Any]]:
        """The ``list`` object of every document, then of every unreadable file."""
        library = self.library
        return [summary(d, indexed=self.mode != "bm25") for d in library.documents] + [
            {"source": u.source, "error": u.error} for u in library.unreadable
        ]

    def uploaded(self) -> list[str]:
        """The sources of the library's uploads, readable or not: what :meth:`remove_report` takes."""
        return [item["source"] for item in self.summaries() if item["source"].startswith(UPLOADS_PREFIX)]

    def add_report(self, path: str | Path, name: str | None = None, user: str = ANONYMOUS) -> dict[str, Any]:
        """Add a report file to the library's uploads and make it searchable at once.

        ``name`` (default: the file's) is made safe to keep inside the uploads folder (see
        :func:`qa.documents.uploads.safe_name`). The file is read first; an unsupported, corrupt,
        empty, duplicate or too large file raises :class:`ReportError` and leaves the library as
        it was. The add is recorded in the audit log under ``user``. Returns the new document's
        ``list`` object.
        """
        uploads = self._uploads_folder()
        path = Path(path)
        name = safe_name(name or path.name)
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            raise ReportError(f"{name}: unsupported file type (expected .txt, .md, .docx, .pdf, .html)")
        if not path.is_file():
            raise ReportError(f"{name}: no such file")
        with self._changing:
            self.limits.check(name, path.stat().st_size, uploads)
            library = self.library
            uploads.mkdir(parents=True, exist_ok=True)
            target = free_name(uploads, name)
            staged = stage_copy(path, uploads)
            try:
                cache = DocumentCache(self.home)
                sha256 = cache.sha256(staged)
                for existing in library.prepared:
                    if existing.sha256 == sha256:
                        raise ReportError(f"{name}: already in the library as {existing.document.source}")
                prepared = cache.read(staged, name)  # errors name the file as the user knows it
                prepared = replace(prepared, document=replace(prepared.document, source=UPLOADS_PREFIX + target.name))
                os.replace(staged, target)
            finally:
                staged.unlink(missing_ok=True)
            cache.sha256(target)  # remember the stored file, so a restart does not hash it again
            cache.flush()
            self._indexes = self._index(Library([*library.prepared, prepared], library.unreadable))
            self.audit.record(user, "add", prepared.document.source, sha256)
        return summary(prepared.document, indexed=self.mode != "bm25")

    def remove_report(self, source: str, user: str = ANONYMOUS) -> dict[str, str]:
        """Remove an uploaded document: its passages leave answers at once, then its file and what
        was cached of it (structure, vectors, saved BM25 indexes) are deleted, and the removal is
        recorded in the audit log under ``user``. Returns ``{"removed": source}``.

        Raises :class:`ReportError` for a source that is not an upload of this library (the
        report folder's documents are the operator's: they are never removed from here).
        """
        uploads = self._uploads_folder()
        with self._changing:
            path = upload_file(uploads, source)
            library = self.library
            kept = [item for item in library.prepared if item.document.source != source]
            removed = [item for item in library.prepared if item.document.source == source]
            unreadable = [item for item in library.unreadable if item.source != source]
            if not removed and len(unreadable) == len(library.unreadable):
                raise ReportError(f"{source}: no such upload in the library")
            sha256 = file_sha256(path)
            forget_saved_indexes(self.home)
            self._indexes = self._index(Library(kept, unreadable))
            path.unlink()
            for item in removed:
                self._forget(item, kept)
            self.audit.record(user, "remove", source, sha256)
        return {"removed": source}

    def _uploads_folder(self) -> Path:
        if self.uploads is None:
            raise ReportError("this library takes no uploads")
        return self.uploads

    def _forget(self, removed: PreparedDocument, kept: Sequence[PreparedDocument]) -> None:
        """Delete what was cached of a removed document that no kept document shares."""
        if all(item.sha256 != removed.sha256 for item in kept):
            DocumentCache(self.home).forget(removed.sha256)
            forget_pages(self.home, removed.sha256)
        if self.encoder is None:
            return
        from embeddings.vector_store import VectorStore, store_directory

        model_id = self.encoder.model_id
        folder = store_directory(self.home, model_id)
        VectorStore(folder, model_id).forget(removed.passages)
        units = [unit.text for paragraph in removed.document.paragraphs for unit in answer_units(paragraph)]
        VectorStore(folder / UNITS_FOLDER, model_id).forget(units)


def answer_span(text: str, highlights: Sequence[Highlight], verdict: Verdict | None) -> Highlight | None:
    """The reader's short answer span in ``text``, when it lies inside a highlight."""
    if verdict is None or verdict.span is None:
        return None
    start, end = verdict.span
    if not text[start:end].strip() or not any(h.start <= start and end <= h.end for h in highlights):
        return None
    return Highlight(start, end, text[start:end])
