"""The answer step: what a question asks, which passages answer it, which sentences to mark.
May import ``qa.answers`` itself, ``qa.retrieval``, ``qa.documents``, ``qa.language``, ``qa.results`` and ``embeddings``.

- :mod:`qa.answers.reading`: key terms, synonyms, English glosses, the asked-for attribute;
- :mod:`qa.answers.reader`: the trained reader (answer log-odds and short answer span per passage);
- :mod:`qa.answers.linear`: the fitted logistic models' dot products;
- :mod:`qa.answers.features`: evidence features of a candidate passage;
- :mod:`qa.answers.decide`: re-ranking and the answered decision, a fitted logistic model;
- :mod:`qa.answers.highlight`: the answering sentences, by the fitted sentence model;
- :mod:`qa.answers.unit_vectors`: the vectors of every passage's answer units, encoded with its document;
- :mod:`qa.answers.answerer`: the per-library state tying them together. The modules above read it
  through the Protocols they declare (``HighlightContext``, ``EvidenceContext``, ``JudgeContext``),
  never by importing it.
"""

from qa.answers.answerer import Answerer
from qa.answers.decide import RERANK_DEPTH, Judgement

__all__ = ["RERANK_DEPTH", "Answerer", "Judgement"]
