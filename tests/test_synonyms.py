"""Chinese synonyms from HIT 同义词词林（扩展版） (qa.language.synonyms)."""

from __future__ import annotations

import pytest

from qa.language.synonyms import NEAR, RELATED, SYNONYM, Thesaurus, size_factor, thesaurus

TREE = {
    "C": {"tag": "时间", "sub": {"a": {"tag": "", "sub": {"25": {"tag": "", "sub": {"A": {"tag": "节日", "sub": {
        "08=": ["除夕", "年夜"],
        "10=": ["春节", "新春"],
        "11#": ["节日", "假日", "佳节"],
        "12@": ["元宵"],
    }}}}}}}},
}


def test_closeness_follows_the_depth_two_words_share():
    related = Thesaurus.from_tree(TREE).related("春节")
    assert related["新春"] == SYNONYM  # the same leaf of synonyms
    assert related["除夕"] == NEAR * size_factor(8)  # the same five-character category (8 words)
    assert "春节" not in related


def test_related_words_count_less_than_synonyms_and_single_words_alone_have_none():
    thesaurus = Thesaurus.from_tree(TREE)
    assert thesaurus.related("节日")["假日"] == RELATED < SYNONYM
    assert set(thesaurus.related("元宵")) == {"除夕", "年夜", "春节", "新春", "节日", "假日", "佳节"}
    assert thesaurus.related("不在词林里") == {}


def test_large_groups_pass_on_less_closeness():
    assert size_factor(2) == size_factor(4) == 1.0
    assert 0 < size_factor(28) < size_factor(12) < 1.0


def test_the_shipped_thesaurus_links_paraphrases():
    thesaurus.cache_clear()
    shipped = thesaurus()
    assert len(shipped.codes) > 70_000
    assert shipped.related("职工")["员工"] == SYNONYM  # a two-word group of synonyms
    assert 0 < shipped.related("春节")["除夕"] < shipped.related("职工")["员工"]
    assert shipped.related("组建")["成立"] == pytest.approx(NEAR * size_factor(len(shipped.categories["Hc05A"])))


def test_the_cached_thesaurus_is_the_trees_with_one_string_a_word(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORT_QA_HOME", str(tmp_path))
    thesaurus.cache_clear()
    try:
        built = thesaurus()  # read from the tree, then saved
        thesaurus.cache_clear()
        loaded = thesaurus()  # read from the cache
    finally:
        thesaurus.cache_clear()
    assert (tmp_path / "cache" / "cilin-thesaurus.bin").is_file() and loaded is not built
    assert (loaded.groups, loaded.categories, loaded.codes) == (built.groups, built.categories, built.codes)
    first, second = loaded.codes["成立"][:2]  # a word in two groups
    assert next(w for w in loaded.groups[first] if w == "成立") is next(w for w in loaded.groups[second] if w == "成立")

