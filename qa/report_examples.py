"""Training windows for the reader from gold questions about a library (``python -m qa.train_reader
--report-questions``): the windows it meets at answer time, labelled by the gold evidence.

Each question is read as the answer step reads it (:meth:`Answerer.read`: an English question as
the report's words for it) and retrieved as at answer time. An answerable question gives one
window of the passage holding its evidence (it answers), that passage with the answering
sentences taken out (the near miss), and a window of the first retrieved passage without the
evidence. An unanswerable question gives a window of each of the first ``READ_DEPTH`` retrieved
passages: what the reader reads when nothing answers. Gold evidence is a clause, not a short
answer, so these windows train the answer head only.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa.answers.answerer import READ_DEPTH
from qa.answers.reader.windows import Encode, Window, compose, cut
from qa.documents.passages import passage_context
from qa.evaluate import GoldQuestion, contains_evidence
from qa.language.question import clean_question
from qa.language.textnorm import simplified, simplified_in_place
from qa.near_misses import answering_spans, without_sentences

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.documents.library import LibraryPassage


def report_windows(assistant: Assistant, questions: Sequence[GoldQuestion], encode: Encode,
                   rng: random.Random) -> list[tuple[Window, bool]]:
    """Windows and whether each answers, for every question of ``questions`` (see the module
    docstring) asked of ``assistant``'s library."""
    passages = assistant.library.passages
    found = []
    for gold in questions:
        question = clean_question(gold.question)
        asked = encode(simplified(assistant.answerer.read(question).text))
        retrieved = [passages[c.passage_index] for c in assistant.retriever.search(question, READ_DEPTH + 1)]

        def window(item: LibraryPassage, text: str | None = None, holding: bool = False) -> Window | None:
            """A random window of ``item`` (``text`` in place of its paragraph), one holding the
            evidence when ``holding``."""
            context, _ = compose(simplified(" ".join(passage_context(item.document, item.paragraph))),
                                 simplified_in_place(item.paragraph.text if text is None else text))
            windows = [w for w in cut(asked, encode(context))
                       if not holding or contains_evidence(context[w.text_range[0]:w.text_range[1]], gold.evidence)]
            return rng.choice(windows) if windows else None

        if not gold.answerable:
            found += [(w, False) for w in map(window, retrieved[:READ_DEPTH]) if w is not None]
            continue
        item = next((p for p in passages if contains_evidence(p.paragraph.text, gold.evidence)), None)
        if item is None:
            continue
        other = next((p for p in retrieved if not contains_evidence(p.paragraph.text, gold.evidence)), None)
        paragraph = item.paragraph
        spans = [(start - paragraph.start, end - paragraph.start) for start, end in answering_spans(paragraph, gold.evidence)]
        near_miss = without_sentences(paragraph.text, spans).strip()
        candidates = [(window(item, holding=True), True), (other and window(other), False)]
        if near_miss and not contains_evidence(near_miss, gold.evidence):
            candidates.append((window(item, near_miss), False))
        found += [(w, answers) for w, answers in candidates if w is not None]
    return found
