"""The encoder's tokenizer trimmed to the scripts report-qa serves, with the full one as fallback.

XLM-R's unigram vocabulary has 250,002 pieces in about a hundred scripts; ``tokenizers`` holds
them in about 300 MiB and loads them in 0.8 s. The pieces made only of characters in
``KEPT_RANGES`` (ASCII and Latin, general punctuation and symbols, CJK, full-width forms:
about 128k) load in about 115 MiB and 0.3 s. They are saved beside the ONNX export with new,
contiguous ids and the original id of each.

For a text whose normalized form holds only kept characters, every piece matching a part of
it is kept, and so is the lowest-scoring piece (which sets the unknown-character score): the
unigram lattice and its best path are those of the full vocabulary, and the trimmed ids mapped
back are exactly the full tokenizer's. Any other text goes through the full tokenizer, loaded
on first need. The normalizer, pre-tokenizer, special tokens and template are kept unchanged.
"""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from embeddings.home import atomic_write
from embeddings.prepared import read_or_rebuild

TRIMMED_TOKENIZER = "onnx/tokenizer_trimmed.npz"
FORMAT_VERSION = 1
# Characters whose pieces are kept, as inclusive codepoint ranges: ASCII and Latin (pinyin with
# tone marks included), general punctuation, letterlike symbols, arrows, maths, shapes,
# dingbats, CJK radicals, punctuation, bopomofo, enclosed and compatibility forms,
# ideographs, full-width forms, and U+2581 (the metaspace).
KEPT_RANGES = (
    (0x0000, 0x024F),
    (0x02B0, 0x02FF),
    (0x2000, 0x27BF),
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3100, 0x312F),
    (0x31A0, 0x31EF),
    (0x3200, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x3134F),
)
_OUTSIDE = re.compile("[^" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in KEPT_RANGES) + "]")
_READ_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def _stamp(source: Path) -> str:
    """What a trimmed file was built from: the format, the kept ranges and the source's size."""
    return json.dumps({"version": FORMAT_VERSION, "ranges": KEPT_RANGES, "source_bytes": source.stat().st_size})


def write_trimmed(source: Path, target: Path) -> None:
    """Trim the unigram ``tokenizer.json`` at ``source`` and save it with its original ids at ``target``."""
    config = json.loads(source.read_text(encoding="utf-8"))
    vocab = config["model"]["vocab"]
    if config["model"]["type"] != "Unigram":
        raise ValueError(f"{source}: not a unigram tokenizer")
    specials = {token["id"] for token in config["added_tokens"]}
    lowest = min(range(len(vocab)), key=lambda i: vocab[i][1])
    kept = [i for i, (piece, _) in enumerate(vocab) if i in specials or i == lowest or not _OUTSIDE.search(piece)]
    new_id = {old: new for new, old in enumerate(kept)}
    config["model"]["vocab"] = [vocab[i] for i in kept]
    config["model"]["unk_id"] = new_id[config["model"]["unk_id"]]
    for token in config["added_tokens"]:
        token["id"] = new_id[token["id"]]
    for token in (config["post_processor"] or {}).get("special_tokens", {}).values():
        token["ids"] = [new_id[i] for i in token["ids"]]
    buffer = io.BytesIO()
    np.savez(
        buffer,
        tokenizer=np.frombuffer(json.dumps(config, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        original_ids=np.asarray(kept, dtype=np.int64),
        stamp=np.frombuffer(_stamp(source).encode("utf-8"), dtype=np.uint8),
    )
    atomic_write(target, buffer.getvalue())


def load_trimmed(folder: Path) -> tuple[Tokenizer, np.ndarray]:
    """The trimmed tokenizer of a prepared folder and its original ids; built again from the
    folder's ``tokenizer.json`` (under the preparation lock) when missing, stale or damaged."""
    source, target = folder / "tokenizer.json", folder / TRIMMED_TOKENIZER
    return read_or_rebuild(folder, lambda: _read_trimmed(source, target), lambda _: write_trimmed(source, target),
                           _READ_ERRORS)


def _read_trimmed(source: Path, target: Path) -> tuple[Tokenizer, np.ndarray]:
    """The trimmed tokenizer at ``target`` and its original ids; raises ``ValueError`` when it
    was not built from ``source`` with the current ranges (``OSError`` when it is missing)."""
    with np.load(target) as saved:
        if saved["stamp"].tobytes().decode("utf-8") != _stamp(source):
            raise ValueError(f"{target} is stale")
        try:
            tokenizer = Tokenizer.from_buffer(saved["tokenizer"].tobytes())
        except Exception as error:  # tokenizers raises a bare Exception for a bad file
            raise ValueError(f"{target}: {error}") from error
        return tokenizer, saved["original_ids"]


class TokenIds:
    """Original token ids of texts, from the trimmed tokenizer when it covers them, else from the
    full one (loaded by ``load_full`` on first need). Without a trimmed tokenizer, always the full one.

    Thread-safe: tokenizers are only read, and the full one is loaded once under a lock.
    """

    def __init__(self, load_full: Callable[[], Tokenizer], trimmed: Tokenizer | None = None,
                 original_ids: np.ndarray | None = None) -> None:
        self._load_full = load_full
        self._full: Tokenizer | None = None
        self._loading = threading.Lock()
        self._trimmed = trimmed
        self._original_ids = original_ids

    def encode(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each text's ids (int64), special tokens included, truncated as configured."""
        if self._trimmed is not None and all(self.covers(text) for text in texts):
            return [self._original_ids[encoding.ids] for encoding in self._trimmed.encode_batch(list(texts))]
        return [np.asarray(encoding.ids, dtype=np.int64) for encoding in self.full().encode_batch(list(texts))]

    def encode_spans(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each text's ids (int64) without special tokens, and each token's character span in the
        text ((n, 2) int64), truncated as configured."""
        trimmed = self._trimmed is not None and all(self.covers(text) for text in texts)
        tokenizer = self._trimmed if trimmed else self.full()
        encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [(self._original_ids[e.ids] if trimmed else np.asarray(e.ids, dtype=np.int64),
                 np.asarray(e.offsets, dtype=np.int64).reshape(-1, 2)) for e in encodings]

    def covers(self, text: str) -> bool:
        """Whether the trimmed tokenizer gives ``text`` the full tokenizer's ids."""
        return self._trimmed is not None and not _OUTSIDE.search(self._trimmed.normalizer.normalize_str(text))

    def token_to_id(self, token: str) -> int | None:
        """The original id of a token (a special token such as ``<pad>``)."""
        if self._trimmed is None:
            return self.full().token_to_id(token)
        trimmed = self._trimmed.token_to_id(token)
        return None if trimmed is None else int(self._original_ids[trimmed])

    def full(self) -> Tokenizer:
        """The full tokenizer, loaded on first call."""
        with self._loading:
            if self._full is None:
                self._full = self._load_full()
            return self._full
