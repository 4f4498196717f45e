"""BM25 indexes saved under ``$REPORT_QA_HOME/index/bm25/``, keyed by the tokens they index.

Indexing a library's passages again at every start costs 0.4 s for 4,000 passages (bm25s
counts every token in Python). The saved index (bm25s' own ``save`` format) of the same tokens
loads in milliseconds. An index is written to a temp folder and renamed into place; one that
does not load, or does not hold as many passages as asked for, is built again. The
``KEPT`` most recently used indexes are kept, one per state of a library.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import bm25s

from embeddings.home import staged_dir
from qa.language.textnorm import Tokenizer
from qa.retrieval.lexical import LexicalIndex

CACHE_DIR = Path("index") / "bm25"
FORMAT_VERSION = 1
KEPT = 4  # indexes kept; older ones are deleted when a new one is saved


def lexical_index(passage_tokens: Sequence[Sequence[str]], tokenizer: Tokenizer, home: Path) -> LexicalIndex:
    """The BM25 index of ``passage_tokens`` (see :class:`LexicalIndex`): the one saved under
    ``home`` for the same tokens, else built and saved."""
    folder = Path(home) / CACHE_DIR
    path = folder / tokens_key(passage_tokens)
    if path.is_dir():
        try:
            saved = LexicalIndex.load(path, tokenizer)
        except Exception:  # noqa: BLE001 - a damaged index (any error of bm25s' or numpy's reading) is built again
            saved = None
        if saved is not None and saved.size == len(passage_tokens):
            with contextlib.suppress(OSError):
                os.utime(path)  # most recently used
            return saved
        shutil.rmtree(path, ignore_errors=True)
    index = LexicalIndex.build(passage_tokens, tokenizer)
    _save(index, path)
    _remove_old(folder)
    return index


def forget_saved_indexes(home: Path) -> None:
    """Delete every saved index (each holds the words of the documents it indexes)."""
    shutil.rmtree(Path(home) / CACHE_DIR, ignore_errors=True)


def tokens_key(passage_tokens: Sequence[Sequence[str]]) -> str:
    """A name for the index of exactly these tokens, in this order, with this bm25s version."""
    digest = hashlib.blake2b(f"{FORMAT_VERSION}\x1d{bm25s.__version__}\x1d".encode(), digest_size=16)
    for tokens in passage_tokens:
        digest.update("\x1f".join(tokens).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def _save(index: LexicalIndex, path: Path) -> None:
    """Write ``index`` to ``path`` through a temp folder (see :func:`embeddings.home.staged_dir`);
    an unwritable or full disk only skips the saving."""
    with contextlib.suppress(OSError), staged_dir(path) as staging:
        index.save(staging)


def _remove_old(folder: Path) -> None:
    """Delete all but the ``KEPT`` most recently used indexes, and temp folders over an hour old."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    saved = sorted((p for p in entries if not p.name.startswith(".")), key=_mtime, reverse=True)
    stale = [p for p in entries if p.name.startswith(".") and time.time() - _mtime(p) > 3600]
    for path in saved[KEPT:] + stale:
        shutil.rmtree(path, ignore_errors=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
