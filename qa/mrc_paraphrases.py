"""Questions of the reading-comprehension training data asked again in other words, written for report-qa.

``qa/answers/reader/mrc_paraphrases.jsonl`` holds, for each paragraph of DRCD dev and the CMRC 2018
trial set, its first question as a user would ask it without having read the paragraph, written by
helpers: colloquial, with the paragraph's key words replaced by synonyms, or terse like a search
(``style``). It asks the same thing, so the original question's answer is its answer. They teach
the reader (``python -m qa.train_reader --paraphrases``) that users ask in other words than the
report's; those about the validation articles measure it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa.jsonl_rows import read_rows

PARAPHRASES_FILE = Path(__file__).with_name("answers") / "reader" / "mrc_paraphrases.jsonl"


@dataclass(frozen=True)
class MrcParaphrase:
    """Question ``id`` of a paragraph (``source``, a file of ``../shared/data/mrc``, with the
    article's and the paragraph's positions in it) asked again as ``question``."""

    source: str
    article: int
    paragraph: int
    id: str
    question: str
    style: str


def read_paraphrases(path: Path = PARAPHRASES_FILE) -> list[MrcParaphrase]:
    """The paraphrases of ``path`` (JSON lines with the fields of :class:`MrcParaphrase`)."""
    return read_rows(path, MrcParaphrase)
