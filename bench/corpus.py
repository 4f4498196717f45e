"""A synthetic corpus of report-like paragraphs recombined from the report's own sentences.

Each synthetic paragraph is 3-7 distinct sentences of the report drawn with a fixed seed, so
its text, its BM25 tokens and its stand-in vector are all functions of sentence ids. Tokens and
vectors are computed once per distinct sentence: jieba splits at sentence punctuation anyway,
so a paragraph's tokens are the concatenation of its sentences' tokens.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from qa.documents.document import Document

SEED = 20261125
MIN_SENTENCES, MAX_SENTENCES = 3, 7


@dataclass
class Corpus:
    sentences: list[str]  # distinct report sentences
    members: list[np.ndarray]  # per paragraph: sentence ids, in reading order

    def __len__(self) -> int:
        return len(self.members)

    def text(self, index: int) -> str:
        return "".join(self.sentences[i] for i in self.members[index])

    def sentence_fingerprint(self) -> str:
        digest = hashlib.sha256("\n".join(self.sentences).encode("utf-8")).hexdigest()
        return digest[:16]


def report_sentences(document: Document) -> list[str]:
    """The report's distinct sentences, in order of first appearance."""
    seen: dict[str, None] = {}
    for paragraph in document.paragraphs:
        for sentence in paragraph.sentences:
            seen.setdefault(sentence.text, None)
    return list(seen)


def synthetic_corpus(document: Document, paragraphs: int = 100_000, seed: int = SEED) -> Corpus:
    sentences = report_sentences(document)
    rng = np.random.default_rng(seed)
    sizes = rng.integers(MIN_SENTENCES, MAX_SENTENCES + 1, size=paragraphs)
    members = [np.sort(rng.choice(len(sentences), size=int(n), replace=False)) for n in sizes]
    return Corpus(sentences, members)


def paragraph_tokens(corpus: Corpus, sentence_tokens: list[list[str]]) -> list[list[str]]:
    """Each paragraph's tokens: its sentences' tokens concatenated (shared string objects)."""
    return [[t for i in ids for t in sentence_tokens[i]] for ids in corpus.members]


def paragraph_vectors(corpus: Corpus, sentence_vectors: np.ndarray) -> np.ndarray:
    """Stand-in paragraph vectors: the L2-normalized mean of the sentences' vectors (float32)."""
    from scipy.sparse import csr_matrix

    n = len(corpus)
    lengths = np.fromiter((len(m) for m in corpus.members), dtype=np.int64, count=n)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    membership = csr_matrix((np.ones(int(indptr[-1]), dtype=np.float32), np.concatenate(corpus.members), indptr),
                            shape=(n, len(sentence_vectors)))
    sums = np.asarray(membership @ sentence_vectors.astype(np.float32))
    sums /= np.linalg.norm(sums, axis=1, keepdims=True)
    return np.ascontiguousarray(sums, dtype=np.float32)
