"""Unanswerable questions about the reading-comprehension training data, written for report-qa.

``qa/answers/reader/mrc_unanswerable.jsonl`` holds two questions for each paragraph of DRCD dev
and the CMRC 2018 trial set, written by helpers as SQuAD 2.0 writes its unanswerable ones: each
names what the paragraph is about and asks for a detail (a year, a name, a count, the members of
a list) that neither the paragraph nor its article gives. The second ones (from line 1,257) follow
the near misses written about the shipped report that the reader took for answers: the members of
a list when only their count is given, the year something started when only its duration is,
another year's figure, the name of someone left unnamed, the parts of a scheme, the same fact
about a sibling (``kind``: list, start, other_year, unnamed, parts, swap, detail). ``trap`` is the
verbatim part of the paragraph the question is about, where a careless reader looks for the
answer. They teach the reader (``python -m qa.train_reader --unanswerable``) the near miss that
users meet most: the subject is there, the detail is not; those about the validation articles
measure it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa.jsonl_rows import read_rows

UNANSWERABLE_FILE = Path(__file__).with_name("answers") / "reader" / "mrc_unanswerable.jsonl"


@dataclass(frozen=True)
class MrcUnanswerable:
    """A question its paragraph does not answer: ``source`` (a file of ``../shared/data/mrc``),
    the article's and the paragraph's positions in it, and the ``trap`` it is about."""

    source: str
    article: int
    paragraph: int
    question: str
    trap: str
    kind: str


def read_unanswerable(path: Path = UNANSWERABLE_FILE) -> list[MrcUnanswerable]:
    """The questions of ``path`` (JSON lines with the fields of :class:`MrcUnanswerable`)."""
    return read_rows(path, MrcUnanswerable)
