"""The seed report rendered as .docx, .html and .pdf reads back with the structure of the .txt."""

from __future__ import annotations

import html
import re
from pathlib import Path

import docx
import pytest

from qa.documents.document import Document
from qa.documents.ingest import read_report

from test_ingest import SEED_HEADINGS, assert_offsets_round_trip
from test_readers import CHROMIUM

SEED_TITLE = "全国质检系统创先争优专题报道（一）"
SEED_SUBHEADINGS = ("增强服务意识", "提高服务本领", "提升服务成效")
FORMATS = ["docx", "html", pytest.param("pdf", marks=pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH"))]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def outline(document: Document) -> list[tuple[int, str | None]]:
    """(section, sub-heading) of each paragraph: the blocks as the Heading 2/3 markup places them."""
    return [(p.section_index, p.subsection) for p in document.paragraphs]


def seed_html(document: Document) -> str:
    """The report as a web page: ``<h1>`` title, ``<h2>`` sections, ``<h3>`` sub-headings, ``<p>``."""
    parts = [f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(document.title)}</title></head>']
    parts.append(f"<body><h1>{html.escape(document.title)}</h1>")
    for section in document.sections:
        parts.append(f"<h2>{html.escape(section.heading)}</h2>")
        subsection = None
        for paragraph in section.paragraphs:
            if paragraph.subsection != subsection:
                subsection = paragraph.subsection
                parts.append(f"<h3>{html.escape(subsection or '')}</h3>")
            parts.append(f"<p>{html.escape(paragraph.text)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_seed_docx(document: Document, path: Path) -> None:
    """The report as Word: Title, Heading 2 sections, Heading 3 sub-headings, Normal paragraphs."""
    word = docx.Document()
    word.add_heading(document.title, level=0)
    for section in document.sections:
        word.add_heading(section.heading, level=2)
        subsection = None
        for paragraph in section.paragraphs:
            if paragraph.subsection != subsection:
                subsection = paragraph.subsection
                word.add_heading(subsection or "", level=3)
            word.add_paragraph(paragraph.text)
    word.save(path)


@pytest.fixture(scope="session")
def seed_txt(seed_report: Path) -> Document:
    return read_report(seed_report)


@pytest.fixture(scope="session")
def rendered(seed_txt: Document, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, Path]:
    """The seed written as .docx and .html, and printed to .pdf by Chromium when it is on PATH
    (the ``seed_pdf`` fixture: Chromium's default header and footer stay on, they must be dropped)."""
    folder = tmp_path_factory.mktemp("formats")
    files = {"docx": folder / "seed.docx", "html": folder / "seed.html"}
    write_seed_docx(seed_txt, files["docx"])
    files["html"].write_text(seed_html(seed_txt), encoding="utf-8")
    if CHROMIUM is not None:
        files["pdf"] = request.getfixturevalue("seed_pdf")
    return files


@pytest.fixture(scope="session")
def read_back(rendered: dict[str, Path]) -> dict[str, Document]:
    return {format: read_report(path) for format, path in rendered.items()}


def test_seed_txt_is_the_reference(seed_txt: Document) -> None:
    assert seed_txt.title == SEED_TITLE
    assert [s.heading for s in seed_txt.sections] == SEED_HEADINGS
    assert seed_txt.sections[0].subheadings == SEED_SUBHEADINGS
    assert len(seed_txt.paragraphs) == 57


@pytest.mark.parametrize("format", FORMATS)
def test_same_structure_as_txt(format: str, seed_txt: Document, read_back: dict[str, Document]) -> None:
    document = read_back[format]
    assert document.format == format
    assert document.title == SEED_TITLE
    assert [s.heading for s in document.sections] == SEED_HEADINGS
    assert document.sections[0].subheadings == SEED_SUBHEADINGS
    assert all(not s.subheadings for s in document.sections[1:])
    assert len(document.paragraphs) == 57
    assert outline(document) == outline(seed_txt)


@pytest.mark.parametrize("format", FORMATS)
def test_same_paragraph_text_as_txt(format: str, seed_txt: Document, read_back: dict[str, Document]) -> None:
    document = read_back[format]
    for paragraph, reference in zip(document.paragraphs, seed_txt.paragraphs, strict=True):
        assert squeeze(paragraph.text) == squeeze(reference.text)
    assert_offsets_round_trip(document)
