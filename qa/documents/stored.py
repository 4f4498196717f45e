"""What a store keeps of a library: each paragraph with its citation fields and the texts its
BM25 and its encoder read, and the analyzer that makes a Milvus BM25 field read text as the
local BM25 does (jieba in search mode, our stop words, no punctuation).

BM25 reads a passage as :func:`qa.retrieval.lexical.index_tokens` indexes it: its normalized text
(document title and headings included), then the pinyin of its Chinese words, so an English
question naming a place in pinyin (Fenggang) matches.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from embeddings.stores import StoredDocument, StoredLibrary, StoredPassage
from qa.documents.cache import PreparedDocument
from qa.documents.library import Library
from qa.language.textnorm import STOPWORDS

PUNCTUATION = "，。、；：？！“”‘’（）《》〈〉【】「」『』…—·～,.;:?!\"'()[]{}<>%/-+*&#@=_|~`"
LEXICAL_ANALYZER: dict[str, Any] = {
    "tokenizer": {"type": "jieba", "mode": "search"},
    "filter": [{"type": "stop", "stop_words": sorted(STOPWORDS | set(PUNCTUATION))}],
}


def stored_library(roots: Sequence[Path], library: Library) -> StoredLibrary:
    """``library`` as a store indexes it; ``roots``: the report folder (or file), then extra folders."""
    return StoredLibrary(
        roots=tuple(str(Path(root).resolve()) for root in roots),
        documents=tuple(stored_document(item) for item in library.prepared),
        analyzer=LEXICAL_ANALYZER,
    )


def stored_document(prepared: PreparedDocument) -> StoredDocument:
    """One document's rows: citation fields, verbatim paragraphs, and what BM25 and the encoder read."""
    document = prepared.document
    passages = tuple(
        StoredPassage(
            position=paragraph.index,
            section=document.section_of(paragraph).heading,
            subsection=paragraph.subsection or "",
            paragraph=paragraph.number,
            start=paragraph.start,
            end=paragraph.end,
            text=paragraph.text,
            encoded=encoded,
        )
        for paragraph, encoded in zip(document.paragraphs, prepared.passages)
    )
    return StoredDocument(document.source, document.title, passages, functools.partial(lexical_texts, prepared))


def lexical_texts(prepared: PreparedDocument) -> list[str]:
    """What BM25 reads of each passage: its normalized text, then the pinyin of its Chinese words."""
    return [f"{text}\n{' '.join(pinyin)}" for text, pinyin in zip(prepared.normalized, prepared.pinyin)]
