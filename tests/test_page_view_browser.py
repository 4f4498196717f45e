"""The page view in a real headless Chromium, on the seed printed to PDF and on its scan: click a
PDF citation, switch to 原文页面, and the marked sentence lies on the cited sentence's characters
of the page image, at any zoom; previous/next move between pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import running_app
from test_pages import char_boxes, covered
from test_ui_browser import CHROMIUM, ROOT, Page, browser  # noqa: F401 - the module's Chromium, reused

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed (make test installs it as root)")
QUESTION = "凤岗办事处有多少名员工？"
# The page image's box and the sentence marks' boxes, in pixels of the window.
GEOMETRY = """() => {
    const frame = document.querySelector('#pages .page-frame');
    const image = frame.querySelector('img.page-image');
    const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
    return {image: box(image), marks: [...frame.querySelectorAll('.page-mark.sentence')].map(box)};
}"""
LOADED = """() => {
    const image = document.querySelector('#pages .page-frame img.page-image');
    return Boolean(image && image.complete && image.naturalWidth > 0);
}"""


@pytest.fixture(scope="module", params=["text", "scan"])
def served_pdf(request: pytest.FixtureRequest, assistant, pdf_home: Path) -> Iterator[tuple[object, str, str]]:
    """(assistant, URL, which) of a server over the seed PDF, or over its scan."""
    from qa import Assistant

    pdf = request.getfixturevalue("seed_pdf" if request.param == "text" else "scanned_seed_pdf")
    served = Assistant(pdf.parent, home=pdf_home, encoder=assistant.encoder)
    with running_app(served) as url:
        yield served, url, request.param


def marks_on_page(page) -> list[tuple[float, float, float, float]]:
    """The sentence marks as fractions of the page image shown (so they compare with pdfplumber's)."""
    page.wait_for_function(LOADED)
    geometry = page.evaluate(GEOMETRY)
    left, top, right, bottom = geometry["image"]
    width, height = right - left, bottom - top
    return [((x0 - left) / width, (y0 - top) / height, (x1 - left) / width, (y1 - top) / height)
            for x0, y0, x1, y1 in geometry["marks"]]


def test_a_pdf_citation_shows_its_page_with_the_sentence_marked(browser, served_pdf, seed_pdf: Path) -> None:  # noqa: F811
    served, url, which = served_pdf
    expected = served.ask(QUESTION).passages[0]
    citation = expected.citation
    assert citation.page == 5 and citation.label == "p. 5 · §5 ¶1"
    chars = char_boxes(seed_pdf, citation.page, expected.highlights[0].text)
    tab = Page(browser, url)
    try:
        tab.ask(QUESTION)
        page = tab.page
        cite = page.locator("#evidence article.card").first.locator("a.cite")
        assert cite.inner_text() == citation.label
        cite.click()
        page.locator("#panel-mode label").filter(has_text="原文页面").click()
        page.wait_for_selector("#pages .page-mark.sentence", state="visible")
        assert not page.locator("#report").is_visible()
        assert page.inner_text("#pages .page-no").startswith(f"第 {citation.page} / 8 页")
        assert covered(chars, marks_on_page(page)) >= 0.9
        page.locator("#pages button.page-zoom[data-zoom='1']").click()
        page.locator("#pages button.page-zoom[data-zoom='1']").click()  # 150%: the marks stay on their characters
        zoom_label = "() => getComputedStyle(document.querySelector('#pages .zoom-level'), '::after').content"
        assert page.evaluate(zoom_label) == '"150%"'
        assert covered(chars, marks_on_page(page)) >= 0.9
        (ROOT / "artifacts").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "artifacts" / f"page-view-{which}.png"))
        page.locator("#pages button.page-nav").filter(has_text="下一页").click()
        page.wait_for_function("() => document.querySelector('#pages .page-no')?.innerText.startsWith('第 6 / 8 页')")
        assert page.locator("#pages .page-mark").count() == 0
        page.locator("#panel-mode label").filter(has_text="全文").click()
        assert page.locator("#report").is_visible() and not page.locator("#pages").is_visible()
        assert tab.dialogs == [] and tab.outside_requests() == []
    finally:
        tab.context.close()
