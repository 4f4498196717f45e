"""The public facade: ``Assistant(report).ask(question) -> Answer``."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from qa.answer import RERANK_DEPTH, Answerer
from qa.document import Document
from qa.ingest import read_report
from qa.question import clean_question
from qa.results import Answer, Citation, Passage
from qa.retrieve import Retriever, RetrieverName, passage_text

SEED_REPORTS = Path(__file__).resolve().parent.parent / "seeds"
DEFAULT_TOP_K = 3


def default_report() -> Path:
    """The shipped report: the first file in ``seeds/``."""
    return SEED_REPORTS


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Assistant:
    """Answers questions about one report with verbatim, cited passages.

    Args:
        report: a ``.txt``/``.md`` file or a folder holding one; default: the shipped seed.
        retriever: ``"bm25"``, ``"dense"`` or ``"hybrid"`` (default).
        model: encoder model name or path (default: env ``REPORT_QA_MODEL``, else
            multilingual-e5-small prepared offline); unused by ``"bm25"``.
        home: state folder (default: env ``REPORT_QA_HOME``, else the user cache dir).
        log: where one-line notices (index rebuilt, model prepared) go.
    """

    def __init__(
        self,
        report: str | Path | None = None,
        *,
        retriever: RetrieverName = "hybrid",
        model: str | None = None,
        home: str | Path | None = None,
        log: Callable[[str], None] = _stderr,
        progress: bool = False,
    ) -> None:
        self.document: Document = read_report(report or default_report())
        encoder = vectors = None
        if retriever != "bm25":
            encoder, vectors = load_dense(self.document, model=model, home=home, log=log, progress=progress)
        self.retriever = Retriever(self.document, retriever, encoder=encoder, vectors=vectors)
        self.answerer = Answerer(self.document, self.retriever.lexical.tokenizer, encoder, self.retriever.glossary)

    def ask(self, question: str, top_k: int = DEFAULT_TOP_K) -> Answer:
        """Answer one question; raises :class:`qa.question.QuestionError` for an unaskable one."""
        question = clean_question(question)
        candidates = self.retriever.search(question, max(top_k, RERANK_DEPTH))
        judgement = self.answerer.judge(question, candidates, keep=max(top_k, 1))
        passages = []
        for rank, candidate in enumerate(judgement.candidates, start=1):
            paragraph = self.document.paragraphs[candidate.paragraph_index]
            section = self.document.section_of(paragraph)
            citation = Citation(
                document=self.document.title,
                section=section.heading,
                section_number=section.index + 1,
                subsection=paragraph.subsection,
                paragraph=paragraph.number,
                start=paragraph.start,
                end=paragraph.end,
            )
            passages.append(
                Passage(
                    rank=rank,
                    score=candidate.score,
                    text=paragraph.text,
                    citation=citation,
                    paragraph_index=paragraph.index,
                    highlights=self.answerer.highlight(question, paragraph),
                    signals=candidate.signals,
                )
            )
        return Answer(question=question, answered=judgement.answered, passages=tuple(passages), reason=judgement.reason)


def index_directory(document: Document, home: str | Path | None = None) -> Path:
    """Folder of a report's persisted vector index under ``$REPORT_QA_HOME/index/``."""
    from embeddings import report_qa_home

    name = re.sub(r"[^\w.-]+", "_", Path(document.source).stem or "report")
    return (Path(home) if home else report_qa_home()) / "index" / name


def load_dense(document: Document, *, model: str | None = None, home: str | Path | None = None,
               log: Callable[[str], None] = _stderr, progress: bool = False):
    """Load the encoder and the report's vector index, building or repairing the index as needed."""
    from embeddings import Encoder, VectorIndex

    encoder = Encoder(model, home=Path(home) if home else None)
    passages = [passage_text(document, p) for p in document.paragraphs]
    vectors = VectorIndex.load_or_build(index_directory(document, home), encoder, passages, progress=progress, log=log)
    return encoder, vectors
