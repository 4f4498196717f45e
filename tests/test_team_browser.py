"""The page with sign-in, in a real headless Chromium: the sign-in form first; a reader is shown
no upload, remove or audit controls; an editor removes an upload from the page and it stops
answering; an admin reads the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import LIBRARY_DATA, home_sharing_the_model, running_app
from test_ui_browser import CHROMIUM, browser  # noqa: F401 - the module's Chromium, reused

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed (make test installs it as root)")
PASSWORDS = {"rita": "reader-secret", "ed": "editor-secret", "ada": "admin-secret"}
ROLES = {"rita": "reader", "ed": "editor", "ada": "admin"}


@pytest.fixture(scope="module")
def served(assistant, seed_report: Path, tmp_path_factory: pytest.TempPathFactory):
    """The seed library and one upload, served with sign-in; yields (url, assistant)."""
    from qa import Access, Assistant, Users

    home = home_sharing_the_model(tmp_path_factory.mktemp("team-browser") / "home")
    users = Users(home)
    for name, role in ROLES.items():
        users.add(name, role, PASSWORDS[name])
    team = Assistant(seed_report.parent, home=home, encoder=assistant.encoder, uploads=True)
    team.add_report(LIBRARY_DATA / "report2.txt")
    with running_app(team, Access(users)) as url:
        yield url, team


def signed_in_page(browser, url: str, name: str):  # noqa: F811 - the fixture's value
    """A new tab signed in as ``name`` through the page's own form, with the library box open."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(15_000)
    page.goto(url)
    page.wait_for_selector("input[type=password]")
    assert page.locator("#question").count() == 0  # nothing of the app before signing in
    page.fill("input[type=text]", name)
    page.fill("input[type=password]", PASSWORDS[name])
    page.press("input[type=password]", "Enter")
    page.wait_for_function("(name) => document.querySelector('#signed-in')?.innerText.includes(name)", arg=name)
    page.get_by_text("文档库与上传").click()
    page.wait_for_selector("#library-list")
    return page


def shown(page, selector: str) -> bool:
    locator = page.locator(selector)
    return locator.count() > 0 and locator.first.is_visible()


def test_a_reader_is_shown_no_controls_to_change_the_library(browser, served) -> None:  # noqa: F811
    url, _ = served
    page = signed_in_page(browser, url, "rita")
    try:
        assert "已登录：rita（读者）" in page.inner_text("#signed-in")
        assert not shown(page, "#upload") and not shown(page, "#remove-box") and not shown(page, "#audit-box")
    finally:
        page.context.close()


def test_an_editor_removes_an_upload_from_the_page_and_an_admin_reads_the_log(browser, served) -> None:  # noqa: F811
    url, team = served
    page = signed_in_page(browser, url, "ed")
    try:
        assert shown(page, "#upload") and shown(page, "#remove-box") and not shown(page, "#audit-box")
        page.click("#remove-source input")
        options = page.locator('#remove-source [data-testid="dropdown-option"]')
        assert options.all_inner_texts() == ["uploads/report2.txt"]  # the report folder's documents are not offered
        options.first.click()
        page.click("#remove")
        page.wait_for_function("() => document.querySelector('#remove-status')?.innerText.includes('已删除')")
        assert "uploads/report2.txt" not in page.inner_text("#library-list")
    finally:
        page.context.close()
    assert team.uploaded() == []
    assert all(p.citation.source != "uploads/report2.txt" for p in team.ask("北仑办事处现有多少名员工？").passages)

    page = signed_in_page(browser, url, "ada")
    try:
        page.get_by_text("审计日志").click()
        page.wait_for_selector("#audit-log")
        log = page.inner_text("#audit-log")
        assert "ed" in log and "删除" in log and "uploads/report2.txt" in log
    finally:
        page.context.close()
