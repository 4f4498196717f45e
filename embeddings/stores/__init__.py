"""Where a library's passages are indexed, chosen by ``--store URI`` or ``$REPORT_QA_STORE``.
May import the rest of ``embeddings`` (never ``qa``); pymilvus only when a Milvus store is chosen.

- ``faiss`` (default): vectors cached under ``$REPORT_QA_HOME/index/``, FAISS and BM25 in this
  process (:mod:`embeddings.stores.local`).
- ``milvus:PATH.db``: a Milvus Lite file; ``http://HOST:PORT`` or ``https://…``: a Milvus server
  or cluster, with the token from ``$MILVUS_TOKEN`` when set (:mod:`embeddings.stores.milvus`).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from embeddings.stores.base import LOCAL_URI, Store, StoredDocument, StoredLibrary, StoredPassage, StoreError, StoreHit

STORE_ENV = "REPORT_QA_STORE"
TOKEN_ENV = "MILVUS_TOKEN"
LITE_PREFIX = "milvus:"
SERVER_SCHEMES = ("http", "https")
USAGE = "expected faiss, milvus:PATH.db or http(s)://HOST:PORT"

__all__ = ["Store", "StoreError", "StoreHit", "StoredDocument", "StoredLibrary", "StoredPassage", "open_store",
           "store_uri"]


def store_uri(uri: str | None = None) -> str:
    """The chosen store: ``uri``, else ``$REPORT_QA_STORE``, else ``faiss``."""
    return (uri if uri is not None else os.environ.get(STORE_ENV, "")).strip() or LOCAL_URI


def open_store(uri: str | None, home: Path) -> Store:
    """The store named by ``uri`` (see :func:`store_uri`), connected; raises :class:`StoreError`
    for a bad URI or a store that cannot be reached, before anything is written."""
    uri = store_uri(uri)
    if uri == LOCAL_URI:
        from embeddings.stores.local import LocalStore

        return LocalStore(home)
    from embeddings.stores.milvus import connect

    return connect(uri, _milvus_target(uri), home, token=os.environ.get(TOKEN_ENV))


def _milvus_target(uri: str) -> str:
    """What pymilvus connects to: the Lite file's absolute path, or the server URI."""
    if uri.startswith(LITE_PREFIX):
        path = Path(uri[len(LITE_PREFIX):]).expanduser()
        if path.suffix != ".db" or not path.stem:
            raise StoreError(f"bad store URI {uri!r}: a Milvus Lite store is a file ending in .db ({USAGE})")
        if not path.parent.is_dir():
            raise StoreError(f"bad store URI {uri!r}: no folder {path.parent}")
        return str(path.resolve())
    parts = urlsplit(uri)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise StoreError(f"bad store URI {uri!r}: the port is not a number ({USAGE})") from None
    if parts.scheme not in SERVER_SCHEMES or not parts.hostname or parts.path not in ("", "/"):
        raise StoreError(f"bad store URI {uri!r} ({USAGE})")
    return uri
