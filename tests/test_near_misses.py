"""Near misses for calibration: copies of the report without the sentences that answer some gold
questions, which stay a report with the same sections, and those questions, now unanswerable."""

from __future__ import annotations

from qa.documents.ingest import read_report
from qa.documents.readers.text import parse_report
from qa.evaluate import GoldQuestion, contains_evidence, read_gold
from qa.near_misses import QUESTIONS_PER_VARIANT, answering_spans, near_miss_reports, without_sentences
from tests.conftest import TEST_DATA

PARAGRAPH = "该局位于北京。该局有员工88人，其中党员70人。局长是赵金生。"


def _paragraph():
    (paragraph,) = parse_report(PARAGRAPH).paragraphs
    return paragraph


def test_only_the_sentence_holding_the_evidence_is_taken_out():
    spans = answering_spans(_paragraph(), ["员工88人"])
    assert without_sentences(PARAGRAPH, spans) == "该局位于北京。局长是赵金生。"


def test_evidence_across_two_sentences_takes_both_and_an_absent_one_nothing():
    spans = answering_spans(_paragraph(), ["党员70人。局长"])
    assert without_sentences(PARAGRAPH, spans) == "该局位于北京。"
    assert answering_spans(_paragraph(), ["副局长"]) == []


def test_each_variant_loses_its_questions_answers_and_keeps_the_sections(seed_report, tmp_path):
    document = read_report(seed_report)
    questions = read_gold(TEST_DATA / "answerable_variants.jsonl")[:25] + [GoldQuestion("是谁？", (), False)]
    variants = near_miss_reports(document, questions, tmp_path)
    asked = [q for _, chunk in variants for q in chunk]
    assert 20 <= len(asked) <= 25 and all(len(chunk) <= QUESTIONS_PER_VARIANT for _, chunk in variants)
    assert all(not q.answerable and q.evidence == () and q.kind == "near-miss" for q in asked)
    gold = {q.question: q for q in questions}
    for folder, chunk in variants:
        variant = read_report(folder)
        assert [(s.heading, s.subheadings) for s in variant.sections] == [
            (s.heading, s.subheadings) for s in document.sections]
        assert not any(contains_evidence(variant.text, gold[q.question].evidence) for q in chunk)
        assert 0.8 * len(document.text) < len(variant.text) < len(document.text)
    assert near_miss_reports(document, questions, tmp_path) == variants  # written once, the same again
