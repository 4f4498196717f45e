"""PDF pages: citations name the page the evidence is really on, the page view marks the cited
sentence on its characters, and where text sits survives the document cache. On the seed report
printed by Chromium; the truth comes from other readers of the same file (PDFium's page text,
pdfplumber's characters), not from report-qa's layout."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qa.documents.cache import DocumentCache
from qa.documents.layout import Layout, TextLine, cited_pages
from qa.documents.pages import page_image, page_marks
from qa.documents.readers.pdf import repair_radicals
from qa.evaluate import evidence_rank, read_gold
from qa.results import Citation

from conftest import DEV_GOLD
from test_cli import run

Rect = tuple[float, float, float, float]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_texts(pdf: Path) -> list[str]:
    """Each page's text as PDFium extracts it: radicals repaired, whitespace removed."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return [squeeze(repair_radicals(page.get_textpage().get_text_range())) for page in document]
    finally:
        document.close()


def evidence_page(texts: list[str], evidence: tuple[str, ...]) -> int:
    """The one page (from 1) holding an evidence string."""
    pages = {number for number, text in enumerate(texts, start=1) for e in evidence if squeeze(e) in text}
    assert len(pages) == 1, (evidence, pages)
    return pages.pop()


def char_boxes(pdf: Path, page: int, text: str) -> list[Rect]:
    """The boxes of the characters of ``text`` (whitespace ignored) on page ``page`` (from 1), as
    pdfplumber reads them, in fractions of the page's width and height."""
    import pdfplumber

    with pdfplumber.open(pdf, pages=[page]) as document:
        sheet = document.pages[0]
        chars = [c for c in sheet.chars if c["text"].strip()]
        flat = "".join(repair_radicals(c["text"], c["fontname"]) for c in chars)
        start = flat.find(squeeze(text))
        assert start >= 0, text
        found = chars[start:start + len(squeeze(text))]
        return [(c["x0"] / sheet.width, c["top"] / sheet.height, c["x1"] / sheet.width, c["bottom"] / sheet.height)
                for c in found]


def covered(chars: list[Rect], marks: list[Rect]) -> float:
    """The share of characters whose centre lies inside a mark."""
    def inside(char: Rect) -> bool:
        x, y = (char[0] + char[2]) / 2, (char[1] + char[3]) / 2
        return any(left <= x <= right and top <= y <= bottom for left, top, right, bottom in marks)

    return sum(inside(char) for char in chars) / len(chars)


@pytest.fixture(scope="module")
def pdf_assistant(assistant, seed_pdf: Path, pdf_home: Path):
    """An Assistant over the seed PDF alone (the session's encoder)."""
    from qa import Assistant

    return Assistant(seed_pdf.parent, home=pdf_home, encoder=assistant.encoder)


@pytest.fixture(scope="module")
def dev_answers(pdf_assistant) -> list[tuple[object, object]]:
    """(gold question, answer) of every answerable dev question."""
    return [(q, pdf_assistant.ask(q.question, top_k=5)) for q in read_gold(DEV_GOLD) if q.answerable]


def test_every_dev_citation_names_the_page_its_evidence_is_on(dev_answers, pdf_assistant, seed_pdf: Path) -> None:
    texts = page_texts(seed_pdf)
    layout = pdf_assistant.library.documents[0].layout
    wrong, starts_there = [], 0
    for question, answer in dev_answers:
        rank = evidence_rank(answer, question.evidence)
        assert rank == 1, question.id
        citation = answer.passages[0].citation
        page = evidence_page(texts, question.evidence)
        starts_there += citation.page == page
        evidence = next(e for e in question.evidence if e in answer.passages[0].text)
        start = citation.start + answer.passages[0].text.index(evidence)
        if not citation.page <= page <= (citation.page_end or citation.page) or layout.pages_of(start, start + 1)[0] != page:
            wrong.append((question.id, page, citation.page, citation.page_end))
    assert wrong == []
    assert starts_there >= len(dev_answers) - 3  # the others' passages start on the page before


def test_citation_json_and_label_carry_the_page(dev_answers) -> None:
    citation = dev_answers[0][1].passages[0].citation
    data = citation.to_dict()
    assert data["page"] == citation.page and data["page_end"] == citation.page_end
    assert data["label"] == f"p. {citation.page} · §{citation.section_number} ¶{citation.paragraph}"
    spanning = Citation("t", "s.pdf", "h", 5, None, 1, 0, 9, page=12, page_end=13)
    assert spanning.label == "pp. 12–13 · §5 ¶1"
    assert Citation("t", "s.txt", "h", 5, None, 1, 0, 9).to_dict()["page"] is None


def test_passages_crossing_a_page_boundary_have_a_page_end(pdf_assistant) -> None:
    document = pdf_assistant.library.documents[0]
    spans = [cited_pages(document.layout, p.start, p.end) for p in document.paragraphs]
    assert all(first is not None for first, _ in spans)
    crossing = [(first, last) for first, last in spans if last is not None]
    assert crossing and all(last == first + 1 for first, last in crossing)
    assert [first for first, _ in spans] == sorted(first for first, _ in spans)


def test_page_view_marks_the_highlighted_sentence_on_its_characters(dev_answers, pdf_assistant, seed_pdf: Path) -> None:
    checked = 0
    for _, answer in dev_answers[:12]:
        passage = answer.passages[0]
        for number in range(passage.citation.page, (passage.citation.page_end or passage.citation.page) + 1):
            view = pdf_assistant.page_view(passage, number)
            assert view.image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and view.count == 8
            kinds = [mark.kind for mark in view.marks]
            assert kinds[0] == "passage" and kinds.count("passage") == 1
            area = view.marks[0]
            for mark in view.marks[1:]:
                assert area.left - 1e-6 <= mark.left <= mark.right <= area.right + 1e-6
                assert area.top - 1e-6 <= mark.top <= mark.bottom <= area.bottom + 1e-6
        view = pdf_assistant.page_view(passage)
        sentences = [(m.left, m.top, m.right, m.bottom) for m in view.marks if m.kind == "sentence"]
        highlight = passage.highlights[0]
        start = passage.citation.start + highlight.start
        layout = pdf_assistant.library.documents[0].layout
        if layout.pages_of(start, start + len(highlight.text)) != (view.number, view.number):
            continue  # the sentence is (partly) on the passage's next page
        assert covered(char_boxes(seed_pdf, view.number, highlight.text), sentences) >= 0.95
        checked += 1
    assert checked >= 8


def test_page_view_elsewhere_has_no_marks_and_refuses_what_it_cannot_show(dev_answers, pdf_assistant, assistant) -> None:
    from qa import ReportError

    passage = dev_answers[0][1].passages[0]
    other = 8 if passage.citation.page != 8 else 1
    assert pdf_assistant.page_view(passage, other).marks == ()
    with pytest.raises(ReportError):
        pdf_assistant.page_view(passage, 9)
    with pytest.raises(ReportError):  # a .txt passage has no pages
        assistant.page_view(assistant.ask("凤岗办事处有多少名员工？").passages[0])


def test_rendered_pages_are_cached_by_document_page_and_scale(seed_pdf: Path, tmp_path: Path) -> None:
    sha = DocumentCache(tmp_path).sha256(seed_pdf)
    first = page_image(tmp_path, seed_pdf, sha, 2)
    assert first == tmp_path / "pages" / sha / "2@2.png"
    half = page_image(tmp_path, seed_pdf, sha, 2, scale=1.0)
    assert half != first and half.stat().st_size < first.stat().st_size
    from PIL import Image

    assert Image.open(first).size == (1224, 1584) and Image.open(half).size == (612, 792)
    first.write_bytes(b"damaged")
    assert page_image(tmp_path, seed_pdf, sha, 2).read_bytes()[:4] == b"\x89PNG"


def test_layout_survives_the_document_cache(seed_pdf: Path, tmp_path: Path) -> None:
    cache = DocumentCache(tmp_path)
    read = cache.read(seed_pdf, "seed.pdf").document
    again = DocumentCache(tmp_path).read(seed_pdf, "seed.pdf").document
    assert read.layout is not None and again.layout == read.layout
    assert len(again.layout.sizes) == 8 and again.layout.ocr_pages == () and again.layout.empty_pages == ()
    for line in again.layout.lines:  # every line's characters are where the document text has them
        assert len(line.edges) == line.end - line.start + 1
    stale = tmp_path / "documents" / f"{cache.sha256(seed_pdf)}.json"
    data = json.loads(stale.read_text(encoding="utf-8"))
    data["version"] = 2  # an older cache entry (no layout) is read again
    stale.write_text(json.dumps(data), encoding="utf-8")
    assert DocumentCache(tmp_path).read(seed_pdf, "seed.pdf").document.layout == read.layout


def test_layout_maps_offsets_to_pages_and_boxes() -> None:
    layout = Layout(
        sizes=((100.0, 200.0), (100.0, 200.0)),
        lines=(
            TextLine(1, 0, 10.0, 20.0, (0.0, 10.0, 20.0, 30.0)),  # "abc" on page 1
            TextLine(1, 3, 30.0, 40.0, (0.0, 10.0, 20.0)),  # "de"
            TextLine(2, 7, 10.0, 20.0, (5.0, 15.0, 25.0)),  # "gh" on page 2, after a paragraph break
        ),
    )
    assert layout.pages_of(1, 4) == (1, 1) and layout.pages_of(4, 9) == (1, 2)
    assert cited_pages(layout, 0, 5) == (1, None) and cited_pages(layout, 3, 9) == (1, 2)
    assert cited_pages(None, 0, 5) == (None, None)
    assert [(b.page, b.x0, b.x1) for b in layout.boxes(1, 8)] == [(1, 10.0, 30.0), (1, 0.0, 20.0), (2, 5.0, 15.0)]
    marks = page_marks(layout, 1, (0, 5), [(1, 4)], (3, 4))
    assert [m.kind for m in marks] == ["passage", "sentence", "sentence", "answer"]
    assert marks[0] == marks[0].__class__("passage", 0.0, 0.05, 0.3, 0.2)
    assert page_marks(layout, 2, (0, 5)) == ()
    assert Layout.from_dict(json.loads(json.dumps(layout.as_dict()))) == layout


def test_list_gives_a_pdfs_page_count_and_ask_its_page(seed_pdf: Path, pdf_home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORT_QA_HOME", str(pdf_home))
    listed = run("list", "--report", str(seed_pdf), "--json")
    assert listed.returncode == 0, listed.stderr
    row = json.loads(listed.stdout)
    assert row["format"] == "pdf" and row["pages"] == 8 and "empty_pages" not in row
    assert "8 页" in run("list", "--report", str(seed_pdf)).stdout
    asked = run("ask", "凤岗办事处有多少名员工？", "--report", str(seed_pdf), "--retriever", "bm25")
    assert asked.returncode == 0, asked.stderr
    assert "[seed.pdf p. 5 · §5 ¶1]" in asked.stdout
