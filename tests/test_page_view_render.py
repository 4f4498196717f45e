"""The page view's HTML: an image and boxes placed in percentages, everything from a document escaped."""

from __future__ import annotations

import re
from pathlib import Path

from qa import Citation, Highlight, Mark, PageView, Passage
from ui.page_view import page_panel, page_request, pages_html, parse_request, placeholder_html

HOSTILE = '<img src=x onerror=alert(1)>${1+1}'


def view(tmp_path: Path, number: int = 1, count: int = 3, marks: tuple[Mark, ...] = ()) -> PageView:
    image = tmp_path / f"{number}.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    return PageView(f"a/{HOSTILE}.pdf", number, count, image, 612.0, 792.0, marks, ocr=False)


def passage() -> Passage:
    citation = Citation(HOSTILE, f"a/{HOSTILE}.pdf", "节", 2, None, 1, 10, 40, page=1)
    return Passage(1, 1.0, "正文" * 15, citation, 0, (Highlight(2, 8, "正文正文正文"),))


def test_marks_are_boxes_in_percentages_of_the_page(tmp_path: Path) -> None:
    marks = (Mark("passage", 0.1, 0.2, 0.9, 0.4), Mark("sentence", 0.1, 0.25, 0.5, 0.3), Mark("answer", 0.2, 0.25, 0.3, 0.3))
    html = pages_html([view(tmp_path, marks=marks)], passage(), rank=1)
    styles = re.findall(r'class="page-mark (\w+)"[^>]*style="([^"]+)"', html)
    assert [kind for kind, _ in styles] == ["passage", "sentence", "answer"]
    assert styles[0][1] == "left:10.000%;top:20.000%;width:80.000%;height:20.000%"
    assert 'src="data:image/png;base64,' in html and "aspect-ratio:612.00/792.00" in html


def test_everything_from_the_document_is_escaped(tmp_path: Path) -> None:
    html = pages_html([view(tmp_path)], passage(), rank=1)
    assert "<img src=x" not in html and "${" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html and "onerror=" not in html.replace("onerror=alert(1)&gt;", "")


def test_previous_and_next_ask_for_the_neighbouring_pages(tmp_path: Path) -> None:
    first = pages_html([view(tmp_path, 1)], passage(), rank=2)
    assert '<button type="button" class="page-nav" data-request="2:0" disabled>上一页</button>' in first
    assert 'data-request="2:2">下一页' in first
    both = pages_html([view(tmp_path, 2), view(tmp_path, 3)], passage(), rank=2)
    assert "第 2–3 / 3 页" in both and 'data-request="2:4" disabled>下一页' in both
    assert both.count('class="page-frame"') == 2


def test_requests_are_parsed_strictly() -> None:
    assert page_request(3) == "3:" and page_request(3, 7) == "3:7"
    assert parse_request("3::1733") == (3, None) and parse_request("3:7:1733") == (3, 7)
    assert parse_request("x:1") is None and parse_request("3") is None and parse_request(None) is None


def test_a_passage_without_pages_or_no_answer_gives_a_notice(assistant) -> None:
    assert page_panel(assistant, None, "1:") == placeholder_html()
    answer = assistant.ask("凤岗办事处有多少名员工？")
    assert "没有原文页面" in page_panel(assistant, answer, "1:")
    assert page_panel(assistant, answer, "99:") == placeholder_html()
