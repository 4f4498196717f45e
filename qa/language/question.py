"""Checking and cleaning a question before it reaches retrieval."""

from __future__ import annotations

import unicodedata

MAX_QUESTION_CHARS = 2000


class QuestionError(ValueError):
    """A question that cannot be asked; the message is one line meant for a person.

    ``code`` names the problem for front ends that word it themselves: ``"empty"``,
    ``"too_long"`` or ``"not_text"``.
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def clean_question(question: object) -> str:
    """Return the question without control, format or unpaired surrogate characters.

    Raises :class:`QuestionError` when nothing is left to ask or the question is longer than
    ``MAX_QUESTION_CHARS`` characters.
    """
    if not isinstance(question, str):
        raise QuestionError("the question must be text", "not_text")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is too long ({len(question)} characters; at most {MAX_QUESTION_CHARS})", "too_long"
        )
    kept = []
    for ch in question:
        category = unicodedata.category(ch)
        if category in ("Zs", "Zl", "Zp") or ch in "\t\n\r\f\v":
            kept.append(" ")
        elif category not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            kept.append(ch)
    cleaned = " ".join("".join(kept).split())
    if not cleaned:
        raise QuestionError("the question is empty", "empty")
    return cleaned
