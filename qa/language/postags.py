"""Part-of-speech tags of Chinese text: jieba's tagger over its default dictionary, loaded once
and light.

Importing ``jieba.posseg`` reads the dictionary file's tags again (0.4 s, 46 MiB) and spells out
its HMM tables as Python modules (30 MiB); here the tables come from jieba's own pickles and the
word tags from a compact cache (see :mod:`qa.language.resources`), keyed by the dictionary's own strings.
The HMM is decoded by :class:`qa.language.viterbi.ArrayViterbi`, which finds jieba's paths faster.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import itertools
import marshal
import pickle
import sys
import types
from pathlib import Path

from qa.language.resources import cached, marshal_dicts
from qa.language.textnorm import base_jieba, normalize
from qa.language.viterbi import ArrayViterbi

_HMM_TABLES = ("char_state_tab", "prob_start", "prob_trans", "prob_emit")
_UNTAGGED = 255
_CHECKED_EVERY = 997  # every so many dictionary words are saved with the tags, to check their order


@functools.lru_cache(maxsize=1)
def _tagger():
    """jieba's part-of-speech tagger over the default dictionary (``jieba.posseg.dt``), its word
    tags from the cache (reading them from the dictionary file costs a process half a second),
    its HMM decoded by :class:`ArrayViterbi`."""
    words = base_jieba().FREQ  # loaded first: the tags are keyed by its words
    posseg = _posseg()
    posseg.viterbi = ArrayViterbi(posseg.char_state_tab_P, posseg.start_P, posseg.trans_P, posseg.emit_P)
    tagger = posseg.dt
    with tagger.tokenizer.get_dict_file() as dictionary:
        source = Path(dictionary.name)
    tagger.word_tag_tab = cached("jieba-word-tag-codes", source, lambda: _word_tags(tagger),
                                 lambda tags: _dump_tags(words, tags), lambda data: _load_tags(words, data))
    return tagger


def _posseg() -> types.ModuleType:
    """``jieba.posseg``, imported without loading what this process would then hold twice: its
    HMM tables come from :func:`_hmm_tables` (the Python modules that spell them out cost 30 MiB
    more), and its default tagger (over ``jieba.dt``, which is :func:`base_jieba`) starts with
    no word tags instead of reading them from the dictionary file (0.4 s and 46 MiB;
    :func:`_tagger` sets them)."""
    if "jieba.posseg" in sys.modules:
        return sys.modules["jieba.posseg"]
    for name, held in zip(_HMM_TABLES, _hmm_tables()):
        table = types.ModuleType(f"jieba.posseg.{name}")
        table.P = held
        sys.modules[table.__name__] = table
    base = base_jieba()
    base.get_dict_file = io.BytesIO  # what the module's POSTokenizer(jieba.dt) reads its word tags from
    try:
        import jieba.posseg
    finally:
        del base.get_dict_file
    return jieba.posseg


def _hmm_tables() -> tuple[dict, ...]:
    """jieba's HMM tables (:data:`_HMM_TABLES`, equal to its pickles of them), from the cache in
    :mod:`marshal` form, where each state and character is one object however many entries name
    it (jieba's pickles hold a copy per entry: 11 MiB more)."""
    source = Path(importlib.util.find_spec("jieba").origin).parent / "posseg" / "prob_emit.p"
    return cached("jieba-hmm-tables", source, lambda: _shared_tables(source.parent), marshal.dumps,
                  lambda data: marshal_dicts(data, len(_HMM_TABLES)))


def _shared_tables(folder: Path) -> tuple[dict, ...]:
    """jieba's pickled HMM tables in ``folder``, with one object for each state and each character."""
    char_states, start, transitions, emissions = (pickle.loads((folder / f"{name}.p").read_bytes()) for name in _HMM_TABLES)
    states: dict[tuple[str, str], tuple[str, str]] = {}
    chars: dict[str, str] = {}
    state, char = (lambda s: states.setdefault(s, s)), (lambda c: chars.setdefault(c, c))
    return (
        {char(c): tuple(map(state, held)) for c, held in char_states.items()},
        {state(s): p for s, p in start.items()},
        {state(s): {state(t): p for t, p in row.items()} for s, row in transitions.items()},
        {state(s): {char(c): p for c, p in row.items()} for s, row in emissions.items()},
    )


def _word_tags(tagger) -> dict[str, str]:
    """Word -> tag of jieba's dictionary, read as ``POSTokenizer.__init__`` reads it, keyed by
    the dictionary's own word strings."""
    tagger.load_word_tag(tagger.tokenizer.get_dict_file())
    return {word: tagger.word_tag_tab[word] for word in tagger.tokenizer.FREQ if word in tagger.word_tag_tab}


def _dump_tags(words: dict[str, int], tags: dict[str, str]) -> bytes:
    """The tag of each dictionary word in the dictionary's order, as one byte (an index into the
    distinct tags), with every ``_CHECKED_EVERY``-th word to check that order when loading."""
    names = sorted(set(tags.values()))
    index = {name: code for code, name in enumerate(names)}
    codes = bytes(index[tags[word]] if word in tags else _UNTAGGED for word in words)
    return marshal.dumps((names, codes, list(itertools.islice(words, 0, None, _CHECKED_EVERY))))


def _load_tags(words: dict[str, int], data: bytes) -> dict[str, str]:
    """Word -> tag from :func:`_dump_tags`, keyed by the dictionary's own word strings (a table
    with keys of its own costs 60 MiB); ``ValueError`` when the dictionary's order differs."""
    names, codes, checked = marshal.loads(data)
    if len(codes) != len(words) or list(itertools.islice(words, 0, None, _CHECKED_EVERY)) != checked:
        raise ValueError("jieba's dictionary is not the one the tags were saved for")
    return {word: names[code] for word, code in zip(words, codes) if code != _UNTAGGED}


def tag(text: str) -> tuple[tuple[str, str], ...]:
    """``(word, part-of-speech)`` pairs of normalized ``text`` (jieba's default dictionary)."""
    return tuple((pair.word, pair.flag) for pair in _tagger().cut(normalize(text)))


@functools.lru_cache(maxsize=4096)
def tagged(text: str) -> tuple[tuple[str, str], ...]:
    """:func:`tag`, cached: for the passages' sentences and clauses, which every question reads
    again (a question is tagged once, with its reading)."""
    return tag(text)
