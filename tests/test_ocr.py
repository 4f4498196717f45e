"""Scanned PDFs read by OCR: the seed printed by Chromium, rasterized at 200 dpi into a PDF of page
images (``scanned_seed_pdf``, read once per test run), must read back like the text PDF: few
character errors, the same sections, the same answers from the same sections and pages, and
marks on the scanned page's characters."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2
import pytest
from rapidfuzz.distance import Levenshtein

from qa.documents.readers.ocr import RecognizedLine, _edges, font_sizes, ocr_progress
from qa.evaluate import evidence_rank, read_gold

from conftest import DEV_GOLD, made_once
from test_ingest import SEED_HEADINGS
from test_pages import char_boxes, covered
from test_readers import chromium_pdf, needs_chromium

MAX_CER = 0.02


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def scan_assistant(assistant, scanned_seed_pdf: Path, pdf_home: Path):
    """An Assistant over the scanned seed alone (read by OCR once, in the fixture)."""
    from qa import Assistant

    return Assistant(scanned_seed_pdf.parent, home=pdf_home, encoder=assistant.encoder)


@pytest.fixture(scope="module")
def text_assistant(assistant, seed_pdf: Path, pdf_home: Path):
    from qa import Assistant

    return Assistant(seed_pdf.parent, home=pdf_home, encoder=assistant.encoder)


@pytest.fixture(scope="module")
def scanned(scan_assistant):
    return scan_assistant.library.documents[0]


def test_ocr_reads_the_scan_with_few_character_errors(scanned, seed_report: Path) -> None:
    from qa import read_report

    reference = squeeze(read_report(seed_report).text)
    error_rate = Levenshtein.distance(reference, squeeze(scanned.text)) / len(reference)
    assert error_rate <= MAX_CER, error_rate
    assert scanned.layout.ocr_pages == tuple(range(1, 9)) and scanned.layout.empty_pages == ()


def test_the_scan_has_the_seeds_title_and_sections(scanned) -> None:
    assert scanned.format == "pdf"
    assert scanned.title == "全国质检系统创先争优专题报道（一）"
    assert [section.heading for section in scanned.sections] == SEED_HEADINGS
    assert len(scanned.paragraphs) == 57


def test_dev_questions_are_answered_from_the_same_section_and_page(scan_assistant, text_assistant) -> None:
    answerable = [q for q in read_gold(DEV_GOLD) if q.answerable]
    hits = {"text": 0, "scan": 0}
    moved = []
    for question in answerable:
        text, scan = text_assistant.ask(question.question, top_k=5), scan_assistant.ask(question.question, top_k=5)
        hits["text"] += evidence_rank(text, question.evidence) == 1
        hits["scan"] += evidence_rank(scan, question.evidence) == 1
        ours, theirs = scan.passages[0].citation, text.passages[0].citation
        if (ours.section, ours.paragraph, ours.page, ours.page_end) != (theirs.section, theirs.paragraph, theirs.page,
                                                                        theirs.page_end):
            moved.append(question.id)
    assert hits["text"] == len(answerable)
    assert hits["scan"] / len(answerable) >= hits["text"] / len(answerable) - 0.05
    assert moved == []


def test_page_view_marks_the_sentence_on_the_scanned_characters(scan_assistant, seed_pdf: Path) -> None:
    answer = scan_assistant.ask("凤岗办事处有多少名员工？")
    passage = answer.passages[0]
    view = scan_assistant.page_view(passage)
    assert view.ocr and view.number == passage.citation.page
    sentences = [(m.left, m.top, m.right, m.bottom) for m in view.marks if m.kind == "sentence"]
    # the scan is the text PDF's pages as pixels: pdfplumber's characters of the text PDF are the truth
    assert covered(char_boxes(seed_pdf, view.number, passage.highlights[0].text), sentences) >= 0.9


@needs_chromium
def test_a_page_without_any_text_is_reported_not_fatal(shared_folder: Path) -> None:
    from qa import read_report

    def make(folder: Path) -> None:
        html = ('<html><body><p style="font-size:20px">第一页的正文，说明本年度的工作安排。</p>'
                '<div style="break-before:page;height:40px"></div></body></html>')
        chromium_pdf(html, folder, header_footer=False)

    blank = made_once(shared_folder / "blank-second-page", make) / "page.pdf"
    assert len(pypdfium2.PdfDocument(blank)) == 2
    reports = []
    with ocr_progress(lambda done, total: reports.append((done, total))):
        document = read_report(blank)
    assert document.paragraphs[0].text == "第一页的正文，说明本年度的工作安排。"
    assert document.layout.ocr_pages == (2,) and document.layout.empty_pages == (2,)
    assert reports == [(0, 1), (1, 1)]
    from qa.documents.library import summary

    assert summary(document, indexed=False)["empty_pages"] == [2]


def test_scan_pdf_has_no_text_layer(scanned_seed_pdf: Path) -> None:
    import pdfplumber

    with pdfplumber.open(scanned_seed_pdf) as pdf:
        assert len(pdf.pages) == 8 and not any(page.chars for page in pdf.pages)
        assert all(page.images for page in pdf.pages)


def _line(text: str, advance: float, height: float = 14.0) -> RecognizedLine:
    """A line whose characters advance by ``advance`` points (a narrow one by half)."""
    width = sum(1.0 if ord(char) > 0x2E80 else 0.5 for char in text)
    return RecognizedLine(0, text, 10.0, 0.0, 10.0 + advance * width, height, 0.0, ())


def test_character_advances_stand_in_for_font_sizes() -> None:
    lines = [
        _line("全国质检系统创先争优专题报道（一）", 23.2, height=25.1),  # title
        _line("山东检验检疫局机关党委为民服务写忠诚", 18.04, height=18.4),  # section headings: boxes apart,
        _line("厦门检验检疫局党组敢想爱拼赢荣誉", 17.95, height=17.2),  # advances not
        _line("增强服务意识", 14.27, height=16.0),  # sub-headings
        _line("提升服务成效", 14.07, height=13.5),
        *[_line("正文一行，四十来个字，" * 4, advance) for advance in (12.0, 12.01, 11.98, 12.0, 12.02)],
        _line("人。", 14.6, height=17.6),  # a paragraph's short last line: a wider box, but no heading
        _line("人民群众办实事700余件", 12.1),  # short, no punctuation, body size
    ]
    sizes = font_sizes(lines)
    body = sizes[5]
    assert sizes[5:] == [body] * 7 and body == pytest.approx(12.0, abs=0.05)
    assert sizes[1] == sizes[2] and sizes[3] == sizes[4] and sizes[0] > sizes[1] > sizes[3] > body


def test_character_edges_follow_the_glyph_boxes_or_share_out_the_line() -> None:
    assert _edges("ab c", [(0.0, 4.0), (5.0, 9.0), (20.0, 24.0)], 0.0, 24.0) == (0.0, 5.0, 9.0, 20.0, 24.0)
    assert _edges("中a", [], 0.0, 30.0) == (0.0, 20.0, 30.0)  # a narrow character is half as wide

