"""The chat UI in a real headless Chromium: answers, abstentions, XSS, citation clicks, copy, offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from ui.render import copy_text

from conftest import LIBRARY_DATA, home_sharing_the_model, running_app, write_docx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed (make test installs it as root)")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PAYLOADS = ["<img src=x onerror=alert(1)>", "<script>window.__xss=1</script>", "${1+1} {{x}} **b** $x$ [a](#)"]


@pytest.fixture(scope="module")
def served(assistant, seed_report: Path, tmp_path_factory: pytest.TempPathFactory):
    """The seed library served with uploads, in a state folder of its own (uploads do not leak)."""
    from qa import Assistant

    home = home_sharing_the_model(tmp_path_factory.mktemp("ui") / "home")
    return Assistant(seed_report.parent, home=home, encoder=assistant.encoder, uploads=True)


@pytest.fixture(scope="module")
def url(served) -> Iterator[str]:
    with running_app(served) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        yield chromium
        chromium.close()


class Page:
    """One browser tab on the app, recording every request and dialog."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("dialog", self._dialog)
        self.page.goto(url)
        self.page.wait_for_selector("#report-panel .para")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def ask(self, question: str) -> None:
        """Type ``question``, press Enter and wait for the evidence area to show it."""
        bots = self.page.locator('#chat [data-testid="bot"]').count()
        self.page.fill("#question textarea", question)
        self.page.press("#question textarea", "Enter")
        self.wait_for_reply(bots, question)

    def wait_for_reply(self, bots_before: int, question: str) -> None:
        self.page.wait_for_function(
            """([bots, q]) => document.querySelectorAll('#chat [data-testid="bot"]').length > bots
                && document.querySelector('#evidence .asked')?.innerText.includes(q)""",
            arg=[bots_before, question.strip()],
        )

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
                and urlparse(u).hostname not in LOOPBACK]


@pytest.fixture
def tab(browser, url) -> Iterator[Page]:
    page = Page(browser, url)
    yield page
    try:
        assert page.dialogs == []
        assert page.outside_requests() == []
    finally:
        page.context.close()


def panel_shows(page, paragraph_index: int, doc: int = 0) -> dict:
    """Whether paragraph N of the panel's document ``doc`` is the selected one, that document the
    one shown, and the paragraph inside the report panel's visible box."""
    return page.evaluate(
        """([doc, n]) => {
            const panel = document.getElementById('report-panel');
            const para = document.getElementById('doc-' + doc + '-para-' + n);
            const p = panel.getBoundingClientRect(), r = para.getBoundingClientRect();
            const shown = [...panel.querySelectorAll('.doc')].filter((d) => !d.hidden);
            return {
                selected: para.classList.contains('selected'),
                count: panel.querySelectorAll('.para.selected').length,
                inView: r.top >= p.top - 1 && r.bottom <= p.bottom + 1 && r.height > 0,
                scrollTop: panel.scrollTop,
                shown: shown.map((d) => d.dataset.source),
            };
        }""",
        [doc, paragraph_index],
    )


def test_answerable_question_citation_click_and_copy(tab, served) -> None:
    question = "凤岗办事处有多少名员工？"
    expected = served.ask(question)
    tab.ask(question)
    page = tab.page
    cards = page.locator("#evidence article.card")
    assert cards.count() == len(expected.passages)
    for i, passage in enumerate(expected.passages):
        assert cards.nth(i).locator("blockquote.passage").inner_text() == passage.text
        assert cards.nth(i).locator("a.cite").inner_text() == passage.citation.label
    holder = next(p for p in expected.passages if "现有员工88人" in p.text)
    card = cards.filter(has_text="现有员工88人")
    assert card.count() == 1 and card.locator("a.cite").inner_text() == holder.citation.label
    assert ("报告中没有找到答案" in page.inner_text("#evidence")) == (not expected.answered)
    if expected.answered:  # the top passage is selected in the report panel and scrolled into view
        top = expected.passages[0].paragraph_index
        page.wait_for_function("(n) => document.getElementById('doc-0-para-' + n).classList.contains('selected')",
                               arg=top)
        shown = panel_shows(page, top)
        assert shown["selected"] and shown["count"] == 1 and shown["inView"]

    target = expected.passages[-1]
    page.evaluate("() => { document.getElementById('report-panel').scrollTop = 0; }")
    before = panel_shows(page, target.paragraph_index)
    page.locator(f'#evidence a.cite[data-para="{target.paragraph_index}"]').first.click()
    after = panel_shows(page, target.paragraph_index)
    assert after["selected"] and after["count"] == 1 and after["inView"]
    assert before["inView"] or after["scrollTop"] > 0
    assert urlparse(page.url).fragment == ""  # the click scrolled the panel, not the page's address

    first = cards.nth(0)
    first.locator("button.copy").click()
    page.wait_for_function("() => document.querySelector('#evidence button.copy').innerText === '已复制'")
    assert page.evaluate("() => navigator.clipboard.readText()") == copy_text(expected.passages[0])

    (ROOT / "artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "artifacts" / "ui.png"), full_page=True)


def test_unanswerable_question_from_an_example_button(tab, served) -> None:
    question = "山东检验检疫局的局长叫什么名字？"
    expected = served.ask(question)
    page = tab.page
    bots = page.locator('#chat [data-testid="bot"]').count()
    page.locator("#examples button", has_text=question).click()
    tab.wait_for_reply(bots, question)
    evidence = page.inner_text("#evidence")
    reply = page.locator('#chat [data-testid="bot"]').last.inner_text()
    if expected.answered:
        assert "报告中没有找到答案" not in evidence and "报告中没有找到答案" not in reply
        assert page.locator("#evidence article.card.nearest").count() == 0
    else:
        assert "报告中没有找到答案" in evidence and "报告中没有找到答案" in reply
        assert ("最接近的段落（不是答案）" in evidence) == bool(expected.passages)
        assert page.locator("#evidence article.card.nearest").count() == len(expected.passages)
        assert page.locator("#report-panel .para.selected").count() == 0


def test_markup_payloads_show_literally_and_never_run(tab) -> None:
    page = tab.page
    for payload in PAYLOADS:
        tab.ask(payload)
        assert page.locator("#evidence .asked").inner_text().endswith(payload)
        assert page.locator('#chat [data-testid="user"]').last.inner_text().strip() == payload
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"]').count() == 0
    assert tab.dialogs == []


def test_bad_questions_give_a_clear_message(tab) -> None:
    page = tab.page
    bots = page.locator('#chat [data-testid="bot"]').count()
    page.locator("#send").click()
    page.wait_for_function("(n) => document.querySelectorAll('#chat [data-testid=\"bot\"]').length > n", arg=bots)
    assert "无法提问" in page.inner_text("#evidence")
    huge = "问" * 3000
    tab.ask(huge[:200])  # a normal question first, then the huge one replaces it
    bots = page.locator('#chat [data-testid="bot"]').count()
    page.fill("#question textarea", huge)
    page.press("#question textarea", "Enter")
    page.wait_for_function("(n) => document.querySelectorAll('#chat [data-testid=\"bot\"]').length > n", arg=bots)
    assert "无法提问" in page.inner_text("#evidence")
    assert "无法提问" in page.locator('#chat [data-testid="bot"]').last.inner_text()


def upload(page, path: Path) -> str:
    """Upload ``path`` through the page's file control; the status line once it names the file."""
    page.set_input_files("#upload input[type=file]", str(path))
    page.wait_for_function(
        """(name) => {
            const now = document.querySelector('#upload-status')?.innerText || '';
            return now.includes(name) && /已加入文档库|未加入文档库/.test(now);
        }""",
        arg=path.name,
        timeout=300_000,
    )
    return page.inner_text("#upload-status")


def test_upload_a_word_file_ask_it_and_open_its_citation(tab, served, tmp_path: Path) -> None:
    """Runs last in this module: it adds a document to the served library."""
    page = tab.page
    page.get_by_text("文档库与上传").click()
    broken = tmp_path / "坏文件.docx"
    broken.write_bytes(b"PK\x03\x04 not a zip at all")
    refused = upload(page, broken)
    assert "未加入文档库：坏文件.docx: " in refused
    assert served.library.sources == ("000_909c30aa43da0e97.txt",)

    report = tmp_path / "秦皇岛简报.docx"
    write_docx(LIBRARY_DATA / "report5_docx_source.txt", report)
    status = upload(page, report)
    assert "已加入文档库" in status and "河北秦皇岛检验检疫局党建工作简报" in status
    assert "uploads/秦皇岛简报.docx" in page.inner_text("#library-list")

    question = "山海关办事处有多少名员工？"
    expected = served.ask(question)
    top = expected.passages[0]
    assert expected.answered and top.citation.source == "uploads/秦皇岛简报.docx"
    tab.ask(question)
    card = page.locator("#evidence article.card").first
    assert card.locator(".doc-title").inner_text() == f"《{top.citation.document}》"
    assert card.locator("blockquote.passage").inner_text() == top.text
    page.evaluate("() => { document.getElementById('report-panel').scrollTop = 0; }")
    card.locator("a.cite").click()
    shown = panel_shows(page, top.paragraph_index, doc=int(card.locator("a.cite").get_attribute("data-doc")))
    assert shown["shown"] == ["uploads/秦皇岛简报.docx"]
    assert shown["selected"] and shown["count"] == 1 and shown["inView"]
    (ROOT / "artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "artifacts" / "ui-upload.png"), full_page=True)
