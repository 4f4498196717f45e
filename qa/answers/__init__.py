"""The answer step: what a question asks, which passages answer it, which sentences to mark.

- :mod:`qa.answers.reading`: key terms, synonyms, English glosses, the asked-for attribute;
- :mod:`qa.answers.features`: evidence features of a candidate passage;
- :mod:`qa.answers.decide`: re-ranking and the answered decision, a fitted logistic model;
- :mod:`qa.answers.highlight`: the answering sentences;
- :mod:`qa.answers.answerer`: the per-library state tying them together.
"""

from qa.answers.answerer import Answerer
from qa.answers.decide import RERANK_DEPTH, Judgement

__all__ = ["RERANK_DEPTH", "Answerer", "Judgement"]
