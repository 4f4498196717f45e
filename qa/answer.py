"""Pick the sentences that answer a question and decide whether the report answers it."""

from __future__ import annotations

from collections.abc import Sequence

from qa.document import Document, Paragraph
from qa.results import Highlight
from qa.retrieve import Candidate
from qa.textnorm import Tokenizer

MAX_HIGHLIGHTS = 2


def highlight(question: str, paragraph: Paragraph, tokenizer: Tokenizer) -> tuple[Highlight, ...]:
    """The sentence of ``paragraph`` sharing the most question tokens (offsets into its text)."""
    question_tokens = set(tokenizer.tokenize(question))
    if not question_tokens:
        return ()
    best, best_overlap = None, 0
    for sentence in paragraph.sentences:
        overlap = len(question_tokens & set(tokenizer.tokenize(sentence.text)))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    if best is None:
        return ()
    start = best.start - paragraph.start
    return (Highlight(start, start + len(best.text), best.text),)


def decide(question: str, candidates: Sequence[Candidate], document: Document) -> tuple[bool, str]:
    """Whether the best candidates answer the question, with a short reason."""
    if not candidates or candidates[0].signals.get("bm25", 0.0) <= 0.0 and "dense" not in candidates[0].signals:
        return False, "no passage shares a term with the question"
    return True, ""
