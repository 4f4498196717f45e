"""Build a SentencePiece "precompiled charsmap" from a per-codepoint normalization map.

The blob is what `tokenizers.normalizers.Precompiled` reads: a little-endian u32 trie size,
a darts-clone double-array trie over the UTF-8 bytes of each source codepoint, then the
NUL-terminated replacement strings. A trie leaf's value is the byte offset of its replacement.
"""

from __future__ import annotations

import struct
from collections import deque

_LEAF_BIT = 1 << 8
_VALUE_BIT = 1 << 31
_MAX_OFFSET = 1 << 21


def build_precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """Return a precompiled charsmap that replaces each codepoint in `mapping` by its string."""
    normalized = bytearray()
    value_of: dict[str, int] = {}
    trie: dict = {}
    for codepoint, replacement in sorted(mapping.items()):
        if replacement not in value_of:
            value_of[replacement] = len(normalized)
            normalized += replacement.encode("utf-8") + b"\0"
        node = trie
        for byte in chr(codepoint).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = value_of[replacement]
    units = _double_array(trie)
    return struct.pack(f"<I{len(units)}I", 4 * len(units), *units) + bytes(normalized)


def _double_array(trie: dict) -> list[int]:
    """Lay out `trie` (byte -> child dict, key 0 -> leaf value) as darts-clone units."""
    units = [0] * 256
    used = bytearray(256)
    used[0] = 1
    used_bases: set[int] = set()
    queue: deque[tuple[int, int, dict]] = deque([(0, 0, trie)])
    while queue:
        position, label, node = queue.popleft()
        labels = sorted(node)
        base = _find_base(labels, used, used_bases)
        used_bases.add(base)
        needed = (base | 0xFF) + 1
        if needed > len(used):
            used.extend(bytes(needed - len(used)))
            units.extend([0] * (needed - len(units)))
        for child_label in labels:
            used[base ^ child_label] = 1
        offset = position ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("charsmap trie too large")
        units[position] = (offset << 10) | (_LEAF_BIT if 0 in node else 0) | label
        for child_label in labels:
            if child_label == 0:
                units[base] = _VALUE_BIT | node[0]
            else:
                queue.append((base ^ child_label, child_label, node[child_label]))
    return units


def _find_base(labels: list[int], used: bytearray, used_bases: set[int]) -> int:
    """First unused base whose child slots (base ^ label) are all free."""
    candidate = used.find(0)
    while candidate != -1:
        base = candidate ^ labels[0]
        if base not in used_bases and all(
            base ^ label >= len(used) or not used[base ^ label] for label in labels
        ):
            return base
        candidate = used.find(0, candidate + 1)
    base = len(used) ^ labels[0]
    while base in used_bases:
        base += 256
    return base
