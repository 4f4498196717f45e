"""Per-library state of the answer step: term rarity, passage words, answer-unit vectors."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from qa.answers import decide, highlight
from qa.answers.features import by_character
from qa.answers.reader.runtime import Reader, Verdict
from qa.answers.reading import Reading, library_synonyms, read_chinese, read_english
from qa.answers.unit_vectors import diversity
from qa.documents.library import Library, LibraryPassage
from qa.documents.passages import passage_context
from qa.language.english import Glossary, is_english
from qa.language.textnorm import Tokenizer
from qa.results import Highlight
from qa.retrieval.retriever import Candidate

if TYPE_CHECKING:
    from embeddings import Encoder

SYNONYMS_CACHED = 4096  # words whose library synonyms an answerer keeps
READ_DEPTH = 2  # candidates the reader reads per question, in retrieval order (a third added nothing out of fold)
READ_AHEAD_PASSAGES = 200  # passages read before the first question (about 3,000 texts: most of the tag cache)


class Answerer:
    """Highlights and the answered / not-answered decision over one library.

    Holds per-library state: term IDF, normalized passages, and the vectors of every passage's
    answer units (see :mod:`qa.answers.unit_vectors`) when there is an encoder.
    """

    def __init__(
        self,
        library: Library,
        tokenizer: Tokenizer,
        encoder: Encoder | None = None,
        glossary: Glossary | None = None,
        unit_vectors: Sequence[np.ndarray] | None = None,
        reader: Reader | None = None,
    ) -> None:
        if (encoder is None) != (unit_vectors is None):
            raise ValueError("an encoder needs the vectors of the passages' answer units, and they need it")
        self.library = library
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.glossary = glossary
        self.unit_vectors = unit_vectors
        self.reader = reader
        self.passages = [p.normalized for p in library.passages]
        self.text = "\n".join(self.passages)
        self.idf: dict[str, float] = {}
        self.passage_words: dict[int, dict[str, tuple[str, ...]]] = {}
        self.read = functools.lru_cache(maxsize=64)(self._read)
        self.synonyms = functools.lru_cache(maxsize=SYNONYMS_CACHED)(self._synonyms)
        self.verdicts = functools.lru_cache(maxsize=64)(self._verdicts)

    @property
    def model(self) -> decide.Model:
        """The shipped models for this setting (with or without an encoder), read on first use."""
        return decide.load_model(self.encoder is not None)

    @functools.cached_property
    def diversity(self) -> float | None:
        """How many topics the library spans, read from its sentence vectors (see
        :func:`~qa.answers.unit_vectors.diversity`); None without an encoder."""
        return None if self.unit_vectors is None else diversity(self.unit_vectors)

    def _read(self, question: str) -> Reading:
        """What the checks look for in ``question`` (cached: judging and highlighting share it)."""
        if self.glossary is not None and is_english(question):
            return read_english(question, self.glossary, self.weight, self.synonyms)
        return read_chinese(question, self.tokenizer, self.weight, self.text, self.synonyms)

    def _verdicts(self, question: str, indices: tuple[int, ...]) -> dict[int, Verdict]:
        """The reader's verdicts on the first ``READ_DEPTH`` of passages ``indices``, by passage
        index (cached: judging and highlighting share them); none without a reader. It reads the
        question as the checks do: an English one as the report's words for it (a keyword search)."""
        if self.reader is None:
            return {}
        read = indices[:READ_DEPTH]
        passages = [self.library.passages[i] for i in read]
        found = self.reader.read(self.read(question).text, [(" ".join(passage_context(p.document, p.paragraph)), p.paragraph.text)
                                            for p in passages])
        return dict(zip(read, found))

    def _synonyms(self, word: str) -> dict[str, float]:
        """The library's Cilin words close to ``word`` (cached: questions share their words)."""
        return library_synonyms(word, self.vocabulary)

    @functools.cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word of the library's passages (their cached index tokens), built on first use."""
        return frozenset(token for item in self.library.prepared for tokens in item.tokens for token in tokens)

    def read_ahead(self, limit: int = READ_AHEAD_PASSAGES) -> None:
        """Read the first ``limit`` passages as the checks read them (their words, and see
        :func:`highlight.read_ahead`), so that the first questions about them do not; more would
        only push each other out of the caches."""
        for passage in self.library.passages[:limit]:
            self.words(passage.index)
            highlight.read_ahead(passage)

    def highlight(self, question: str, passage: LibraryPassage, verdict: Verdict | None = None
                  ) -> tuple[Highlight, ...]:
        """The one or two sentences of ``passage`` that answer ``question`` (offsets into its text),
        with the reader's ``verdict`` on it when it read it."""
        return highlight.highlight(question, passage, self, verdict)

    def judge(self, question: str, candidates: Sequence[Candidate], keep: int) -> decide.Judgement:
        """Re-rank candidates by answer evidence, keep ``keep``, and decide (see :func:`decide.judge`)."""
        return decide.judge(question, candidates, self, keep)

    def weight(self, term: str) -> float:
        """IDF of a term over the passages (substring matches); terms the report never uses weigh most."""
        if term not in self.idf:
            df = sum(term in passage for passage in self.passages)
            self.idf[term] = math.log((len(self.passages) + 1) / (df + 0.5))
        return self.idf[term]

    def words(self, index: int) -> dict[str, tuple[str, ...]]:
        """The words of passage ``index`` (with its headings; tokenized when its document was
        read), by character (see :func:`by_character`)."""
        if index not in self.passage_words:
            self.passage_words[index] = by_character(self.library.passages[index].words)
        return self.passage_words[index]

    def sentence_cosines(self, question: str, passage: LibraryPassage) -> np.ndarray | None:
        """Cosine of each of ``passage``'s answer units to the question, or None without an encoder."""
        if self.encoder is None:
            return None
        return self.unit_vectors[passage.index] @ self.encoder.encode_query(question)
