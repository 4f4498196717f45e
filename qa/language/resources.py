"""Per-process tables built from large text files, cached under ``$REPORT_QA_HOME/cache/``.

Reading jieba's IDF table or its dictionary's part-of-speech tags takes about half a second a
process; the built table, saved in a binary form, loads in milliseconds. An entry is named by
what it holds and stamped with its source file's size and mtime and a format version; a stale,
missing or damaged entry is built again from the source and saved atomically.
"""

from __future__ import annotations

import hashlib
import json
import marshal
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

CACHE_DIR = "cache"
FORMAT_VERSION = 2  # 2: the CC-CEDICT table packs each headword's keys in one string

T = TypeVar("T")


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process (unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def cached(name: str, source: Path, build: Callable[[], T], dump: Callable[[T], bytes],
           load: Callable[[bytes], T]) -> T:
    """The table ``name`` built from ``source``: loaded from the cache when it matches the
    source, else built with ``build`` and saved with ``dump`` (``load`` reads it back)."""
    from embeddings.home import atomic_write, report_qa_home

    stat = source.stat()
    stamp = json.dumps({"version": FORMAT_VERSION, "source": str(source), "size": stat.st_size,
                        "mtime_ns": stat.st_mtime_ns}).encode("utf-8")
    path = report_qa_home() / CACHE_DIR / f"{name}.bin"
    try:
        data = path.read_bytes()
        head, _, body = data.partition(b"\n")
        if head == stamp:
            return load(body)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    table = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, stamp + b"\n" + dump(table))
    return table


def marshal_dicts(data: bytes, count: int) -> tuple[dict, ...]:
    """The ``count`` tables :func:`marshal.dumps` saved as one tuple of dicts (objects shared
    between them stay shared); ``ValueError`` for data of another shape."""
    tables = marshal.loads(data)
    if not (isinstance(tables, tuple) and len(tables) == count and all(isinstance(t, dict) for t in tables)):
        raise ValueError(f"not a tuple of {count} tables")
    return tables

