"""What an answer is made of: passages quoted verbatim with citations and highlights.

``Answer.to_dict()`` is the JSON object of the outside contract (``report-qa ask --json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Citation:
    """Where a passage sits: document (title and source), section heading, sub-heading,
    paragraph number, offsets into the document's text, and for a PDF the physical pages
    (from 1) it starts on and, when it runs onto later pages, ends on."""

    document: str
    source: str
    section: str
    section_number: int
    subsection: str | None
    paragraph: int
    start: int
    end: int
    page: int | None = None
    page_end: int | None = None

    @property
    def label(self) -> str:
        """Short label shown to people, e.g. ``§5 ¶1``, with the page first for a PDF: ``p. 12 · §5 ¶1``
        (``pp. 12–13 · …`` for a passage that runs onto the next page)."""
        where = f"§{self.section_number} ¶{self.paragraph}"
        if self.page is None:
            return where
        pages = f"pp. {self.page}–{self.page_end}" if self.page_end else f"p. {self.page}"
        return f"{pages} · {where}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "source": self.source,
            "section": self.section,
            "subsection": self.subsection,
            "paragraph": self.paragraph,
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "page": self.page,
            "page_end": self.page_end,
        }


@dataclass(frozen=True)
class Highlight:
    """A sentence inside a passage; offsets are into the passage text."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class Passage:
    """One ranked paragraph, verbatim, with its citation, highlights and per-retriever scores.

    ``paragraph_index`` is the paragraph's position in its document (``Paragraph.index``).
    """

    rank: int
    score: float
    text: str
    citation: Citation
    paragraph_index: int
    highlights: tuple[Highlight, ...] = ()
    signals: dict[str, float] = field(default_factory=dict)
    answer: Highlight | None = None  # the short answer span, inside a highlight (answered top passage only)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": round(self.score, 4),
            "text": self.text,
            "citation": self.citation.to_dict(),
            "highlights": [h.to_dict() for h in self.highlights],
            **({"answer": self.answer.to_dict()} if self.answer else {}),
            "signals": {name: round(value, 4) for name, value in self.signals.items()},
        }

    def pieces(self) -> list[tuple[str, int | None, bool]]:
        """The text cut at every highlight and answer bound, in order: each piece with the number of
        the highlight it belongs to (the first by start; None outside them) and whether it is the
        answer span. What the page and the terminal mark."""
        size = len(self.text)
        marks = sorted((max(0, min(h.start, size)), max(0, min(h.end, size))) for h in self.highlights)
        spans = [(self.answer.start, self.answer.end)] if self.answer else []
        bounds = sorted({0, size, *(b for m in marks + spans for b in m)})
        return [(self.text[low:high], next((n for n, (a, b) in enumerate(marks) if a <= low and high <= b), None),
                 any(a <= low and high <= b for a, b in spans))
                for low, high in zip(bounds, bounds[1:]) if low < high]


@dataclass(frozen=True)
class Answer:
    """The reply to one question: whether the report answers it, and the passages."""

    question: str
    answered: bool
    passages: tuple[Passage, ...]
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "reason": self.reason,
            "passages": [p.to_dict() for p in self.passages],
        }


ECHO_LIMIT = 200


def refusal(question: object, message: str) -> dict[str, Any]:
    """The contract object for a question that could not be asked: no passages, an ``error``.

    The question is echoed shortened to ``ECHO_LIMIT`` characters (a 1 MB question is not sent back).
    """
    shown = question if isinstance(question, str) else ""
    if len(shown) > ECHO_LIMIT:
        shown = shown[:ECHO_LIMIT] + "…"
    return {"question": shown, "answered": False, "passages": [], "error": message}
