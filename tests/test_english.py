"""English questions: the CC-CEDICT glossary and the English gold set end to end."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from qa.evaluate import evaluate, read_gold
from qa.language.english import (
    STOP_WORDS,
    Glossary,
    _read_dictionary_table,
    _unpack,
    dictionary_path,
    dictionary_table,
    english_kind,
    english_words,
    is_english,
    lemmas,
)
from qa.language.qtype import QType
from qa.language.textnorm import Tokenizer, normalize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def test_english_questions_are_told_from_chinese_ones():
    assert is_english("How many employees does the Fenggang office have?")
    assert not is_english("凤岗办 how many employees")
    assert not is_english("？？？ 123")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many employees does the office have?", QType.QUANTITY),
        ("When was the branch founded?", QType.TIME),
        ("In which year was it set up?", QType.TIME),
        ("Who praised the bureau?", QType.PERSON),
        ("Where was the plan submitted?", QType.PLACE),
        ("What is the slogan of the office?", QType.WHAT),
        ("Tell me about the report", QType.OTHER),
    ],
)
def test_english_question_kinds(question, kind):
    assert english_kind(question).kind is kind


def test_lemmas_reach_base_forms_in_american_spelling():
    assert "office" in lemmas("offices")
    assert "found" in lemmas("founded")
    assert "handle" in lemmas("handling")
    assert "civilize" in lemmas("civilised") and "center" in lemmas("centre")
    assert lemmas("the") == ["the"]


def test_english_words_drop_possessives_and_apostrophes():
    assert english_words("Xiamen's Bao'an bureau’s frozen-octopus, 2011") == ["xiamen", "baoan", "bureau", "frozen", "octopus"]


def test_us_reads_as_the_country_and_the_pronoun_names_nothing():
    assert english_words("Exports to the US and the U.S. market") == ["exports", "to", "the", "usa", "and", "the", "usa", "market"]
    assert english_words("Tell us more") == ["tell", "us", "more"] and "us" in STOP_WORDS


def test_a_demonym_also_looks_up_its_country_but_short_words_keep_their_spelling():
    assert "australia" in lemmas("australian") and "korea" in lemmas("korean")
    assert "pla" not in lemmas("plan")


def test_common_english_words_are_less_specific(assistant):
    glossary = assistant.retriever.glossary
    assert glossary.specificity("help") < glossary.specificity("customer") < glossary.specificity("phthalate") == 1.0
    assert glossary.specificity("party member") == max(glossary.specificity("party"), glossary.specificity("member"))


def test_glossary_keeps_only_the_reports_words(tmp_path):
    dictionary = tmp_path / "mini.txt.gz"
    with gzip.open(dictionary, "wt", encoding="utf-8") as out:
        out.write("# CC-CEDICT sample\n")
        out.write("員工 员工 [yuan2 gong1] /staff/personnel/employee/\n")
        out.write("職工 职工 [zhi2 gong1] /workers/employee/\n")
        out.write("辦事處 办事处 [ban4 shi4 chu4] /office/agency/\n")
        out.write("王 王 [Wang2] /surname Wang/\n")
    report = normalize("凤岗办事处现有员工88人。")
    glossary = Glossary(report, Tokenizer(), dictionary=dictionary)
    glosses = glossary.glosses("How many employees does the Fenggang office have?")
    assert glosses["employee"] == ("员工",)  # 职工 is a dictionary match the report lacks
    assert glosses["office"] == ("办事处",)
    assert glosses["fenggang"] == ("凤岗",)  # from the pinyin of the report's own words
    assert glossary.glosses("What about the weather?") == {"weather": ()}
    assert "long" not in glossary.glosses("How long is the Fenggang office open?")  # how long asks a duration


def test_an_english_reading_holds_the_share_of_its_weight_the_report_has_no_word_for(tmp_path):
    from qa.answers.reading import read_english

    dictionary = tmp_path / "mini.txt.gz"
    with gzip.open(dictionary, "wt", encoding="utf-8") as out:
        out.write("員工 员工 [yuan2 gong1] /staff/personnel/employee/\n")
    glossary = Glossary(normalize("凤岗办事处现有员工88人。"), Tokenizer(), dictionary=dictionary)

    def share(question: str) -> float:
        return read_english(question, glossary, lambda term: 1.0, lambda word: {}).unglossed

    assert share("How many employees in Fenggang?") == 0.0  # every word has the report's word
    assert 0.0 < share("How many employees work in Fenggang?") < share("How many employees keep pet dogs in Fenggang?") < 1.0
    assert share("What about the weather?") == 1.0


GLOSSARY_PINYIN_CHECK = """
import sys
from qa import Assistant
from qa.language.english import Glossary
glossary = Assistant().retriever.glossary
assert glossary.pinyin["fenggang"] == {"凤岗"}
assert "pypinyin" not in sys.modules  # the documents' cached pinyin, not the words romanized again
assert Glossary(glossary.report_text, glossary.tokenizer).pinyin == glossary.pinyin
print("ok")
"""


def test_the_glossary_spells_the_librarys_words_from_its_cache_as_romanizing_them_would(assistant):
    # ``assistant`` first: the seed's documents are cached (indexing romanizes their words)
    run = subprocess.run([sys.executable, "-c", GLOSSARY_PINYIN_CHECK], cwd=ROOT, capture_output=True, text=True)
    assert run.stdout.strip() == "ok", run.stderr[-2000:]


@pytest.mark.parametrize("name", ["english.jsonl", "independent_english.jsonl"])
def test_english_questions_reach_their_passage_and_are_answered(assistant, name):
    report = evaluate(read_gold(DATA / name), lambda q: assistant.ask(q, top_k=5))
    assert report.metrics["hit@3"] >= 0.9
    assert report.metrics["hit@1"] >= 0.7
    assert report.metrics["false_abstention"] <= 0.2, report.failures


@pytest.fixture
def empty_dictionary(tmp_path):
    """A CC-CEDICT file with no entries: only the report's words and the small lists gloss."""
    dictionary = tmp_path / "empty.txt.gz"
    with gzip.open(dictionary, "wt", encoding="utf-8") as out:
        out.write("# no entries\n")
    return dictionary


def test_ordinals_map_to_the_reports_numbered_names(empty_dictionary):
    glossary = Glossary(normalize("第六党支部成立于2006年。"), Tokenizer(), dictionary=empty_dictionary)
    assert glossary.glosses("When was the sixth branch founded?")["sixth"] == ("第六",)
    assert glossary.glosses("When was the 6th branch founded?")["6th"] == ("第六",)
    assert glossary.glosses("Was there a seventh branch?")["seventh"] == ()  # the report has no 第七


def test_role_words_and_verbs_of_change_have_glosses(empty_dictionary):
    report = normalize("海淀局局长赵金生表示，检验周期缩短，成本降低，效率提高。")
    glossary = Glossary(report, Tokenizer(), dictionary=empty_dictionary)
    assert glossary.glosses("Who heads the Haidian bureau?")["head"] == ("局长",)
    assert glossary.glosses("Who is the director?")["director"] == ("局长",)
    assert set(glossary.glosses("How much did they cut costs?")["cut"]) == {"降低", "缩短"}
    assert glossary.glosses("Did they raise efficiency?")["raise"] == ("提高",)
    assert glossary.glosses("Did they increase exports?")["increase"] == ("提高",)  # only the report's words


def test_english_questions_name_what_they_count_or_the_role_they_ask_about():
    assert english_kind("How many employees does the office have?").focus.split() == ["employees", "employe", "employee"]
    assert english_kind("How many years in a row was it named?").measure == "年"
    assert english_kind("By how much did it cut the time?").focus == ""
    assert "head" in english_kind("Who heads the Haidian bureau?").focus.split()


def test_the_shipped_dictionary_is_read_through_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORT_QA_HOME", str(tmp_path))
    built = dictionary_table()
    assert (tmp_path / "cache" / "cedict.bin").exists()
    assert dictionary_table() == built == _read_dictionary_table(dictionary_path())
    assert dict(_unpack(built[0]["员工"]))["employee"] >= 1
