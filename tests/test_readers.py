"""One reader per format, on small real files: python-docx documents, HTML pages, PDFs printed by Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from qa.documents.ingest import ReportError, read_report
from qa.documents.readers.pdf import repair_radicals
from qa.documents.structure import join_lines

from conftest import TEST_DATA
from test_ingest import assert_offsets_round_trip

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH: PDF tests print their PDFs with it")

# Paragraphs of about 100 CJK characters: three lines on a Letter page at 12pt, the last one short.
PARAGRAPHS = [f"第{n}段的第一句话，说明本年度的工作安排。" + "各项任务按计划推进，进展顺利，成效明显。" * 4 for n in range(1, 13)]
# The same without a sentence end: only a vertical gap or an indent can tell where they end.
OPEN_PARAGRAPHS = [p.removesuffix("。") + f"，详见附表{n}" for n, p in enumerate(PARAGRAPHS, start=1)]


def chromium_pdf(html: str, folder: Path, header_footer: bool = True) -> Path:
    """Print an HTML page to PDF with headless Chromium (its default header/footer unless disabled)."""
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "page.html"
    page.write_text(html, encoding="utf-8")
    target = folder / "page.pdf"
    command = [
        CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={folder / 'chromium-profile'}", f"--print-to-pdf={target}",
    ]  # fmt: skip
    if not header_footer:
        command.append("--no-pdf-header-footer")
    subprocess.run([*command, page.as_uri()], check=True, capture_output=True, timeout=180)
    return target


def one_line_error(path: Path) -> str:
    with pytest.raises(ReportError) as error:
        read_report(path)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(path.name)
    return message


# --- docx ----------------------------------------------------------------------------------


def test_docx_heading_styles_bold_line_and_table(tmp_path: Path) -> None:
    word = docx.Document()
    word.add_heading("城市绿化年度报告", level=0)  # the Title style
    word.add_paragraph("今年全市新增公园绿地一百二十公顷。市民满意度达到百分之九十二。")
    word.add_heading("公园建设", level=1)
    word.add_paragraph("新建社区公园十五处，改造提升老旧公园八处。")
    word.add_heading("口袋公园", level=2)
    word.add_paragraph("利用边角地建设口袋公园四十个。")
    bold = word.add_paragraph()
    bold.add_run("养护").bold = True
    bold.add_run("要点").bold = True
    word.add_paragraph("夜间作业，减少对交通的影响。\n养护记录每周上报一次。")
    word.add_heading("行道树养护", level=1)
    table = word.add_table(rows=3, cols=3)
    table.cell(0, 1).merge(table.cell(0, 2))
    for row, cells in enumerate([["区域", "株数与备注", "株数与备注"], ["东城", "1200", ""], ["西城", "900", "补植"]]):
        for column, value in enumerate(cells):
            table.cell(row, column).text = value
    path = tmp_path / "绿化.docx"
    word.save(path)

    assert read_report(path, source="reports/绿化.docx").source == "reports/绿化.docx"
    document = read_report(path)
    assert (document.format, document.source, document.title) == ("docx", "绿化.docx", "城市绿化年度报告")
    assert [s.heading for s in document.sections] == ["城市绿化年度报告", "公园建设", "行道树养护"]
    assert document.sections[1].subheadings == ("口袋公园", "养护要点")
    assert [p.subsection for p in document.sections[1].paragraphs] == [None, "口袋公园", "养护要点", "养护要点"]
    # a soft line break separates blocks, as a line break does in a .txt
    assert document.sections[1].paragraphs[-1].text == "养护记录每周上报一次。"
    # one paragraph per table row, a merged cell once, empty cells left out
    assert [p.text for p in document.sections[2].paragraphs] == ["区域 | 株数与备注", "东城 | 1200", "西城 | 900 | 补植"]
    assert_offsets_round_trip(document)


def test_docx_outline_level_makes_a_heading_and_bold_lines_need_all_runs_bold(tmp_path: Path) -> None:
    word = docx.Document()
    word.add_paragraph("社区服务情况汇报", style="Title")
    outlined = word.add_paragraph("第一部分 养老服务")
    outline = OxmlElement("w:outlineLvl")
    outline.set(qn("w:val"), "0")
    outlined._p.get_or_add_pPr().append(outline)
    word.add_paragraph("社区食堂每天供应午餐三百份。")
    half_bold = word.add_paragraph()
    half_bold.add_run("部分加粗").bold = True
    half_bold.add_run("的一行，后面还有内容")
    word.add_paragraph().add_run("这是加粗的一句完整的话。").bold = True
    word.add_paragraph("日间照料中心服务老人两千人次。")
    path = tmp_path / "outline.docx"
    word.save(path)

    document = read_report(path)
    assert [s.heading for s in document.sections] == ["第一部分 养老服务"]
    assert document.sections[0].subheadings == ()
    assert [p.text for p in document.paragraphs] == [
        "社区食堂每天供应午餐三百份。",
        "部分加粗的一行，后面还有内容",
        "这是加粗的一句完整的话。",
        "日间照料中心服务老人两千人次。",
    ]


def test_docx_without_heading_styles_uses_bold_lines_as_sections(tmp_path: Path) -> None:
    word = docx.Document()
    word.add_paragraph("农村电商发展调查")
    for heading, body in [("甲县", "电商服务站覆盖全部乡镇。"), ("乙县", "快递进村打通最后一公里。")]:
        word.add_paragraph().add_run(heading + "的做法").bold = True
        word.add_paragraph(body)
    path = tmp_path / "plain.docx"
    word.save(path)

    document = read_report(path)
    assert document.title == "农村电商发展调查"
    assert [s.heading for s in document.sections] == ["甲县的做法", "乙县的做法"]
    assert [len(s.paragraphs) for s in document.sections] == [1, 1]


# --- html ----------------------------------------------------------------------------------

PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>城市绿化年度报告 - 市政网</title>
<style>p {{ color: #333; }} .secret {{ content: "样式内容"; }}</style>
<script>var secret = "脚本内容不应出现";</script></head>
<body><nav><a href="/">首页</a> | <a href="/news">新闻中心</a> | <a href="/about">关于我们</a></nav>
{open}
<h1>城市绿化年度报告</h1>
<p>今年全市新增公园绿地一百二十公顷，完成行道树补植三千株。市民对绿化工作的满意度达到百分之九十二。</p>
<h2>公园建设</h2>
<p>新建社区公园十五处，改造提升老旧公园八处。每处公园都配建了健身步道和儿童游乐设施。</p>
<h3>口袋公园</h3>
<p>利用边角地建设口袋公园四十个，方便居民就近休闲。<br>口袋公园平均面积约八百平方米，全部免费开放。</p>
<h2>行道树养护</h2>
<p>对主干道行道树开展病虫害防治，全年修剪树木两万株。养护作业均安排在夜间进行，减少对交通的影响。</p>
<table><tr><th>区域</th><th>株数</th></tr><tr><td>东城</td><td>1200</td></tr></table>
{close}{sidebar}
<footer>版权所有 市政网 联系电话 12345</footer>
<script>document.write("另一段脚本文字");</script>
</body></html>"""


SIDEBAR = '<div class="sidebar"><h3>热门文章</h3><ul><li>热门文章一：市区新增停车位</li><li>热门文章二：地铁新线开通</li></ul></div>'


@pytest.mark.parametrize(
    ("wrapper", "boilerplate"),
    [
        # headings straight in <body>: trafilatura would drop them, so the body is read
        (dict(open="", close="", sidebar=""), ["脚本", "样式内容", "color", "新闻中心", "版权所有"]),
        # an article beside a sidebar: trafilatura keeps the headings and leaves the sidebar out
        (dict(open="<article>", close="</article>", sidebar=SIDEBAR), ["脚本", "样式内容", "color", "新闻中心", "版权所有", "热门文章"]),
    ],
    ids=["plain-body", "article"],
)
def test_html_headings_title_and_no_boilerplate(tmp_path: Path, wrapper: dict[str, str], boilerplate: list[str]) -> None:
    path = tmp_path / "page.html"
    path.write_text(PAGE.format(**wrapper), encoding="utf-8")

    document = read_report(path)
    assert (document.format, document.title) == ("html", "城市绿化年度报告")
    assert [s.heading for s in document.sections] == ["城市绿化年度报告", "公园建设", "行道树养护"]
    assert document.sections[1].subheadings == ("口袋公园",)
    assert [p.text for p in document.sections[1].paragraphs[1:]] == [
        "利用边角地建设口袋公园四十个，方便居民就近休闲。",
        "口袋公园平均面积约八百平方米，全部免费开放。",
    ]
    assert [p.text for p in document.sections[2].paragraphs[1:]] == ["区域 | 株数", "东城 | 1200"]
    for text in boilerplate:
        assert text not in document.text
    assert_offsets_round_trip(document)


def test_html_title_element_when_no_heading_repeats_it(tmp_path: Path) -> None:
    path = tmp_path / "notice.htm"
    path.write_bytes(
        '<html><head><meta charset="gbk"><title>社区图书馆开放通知</title></head><body>'
        "<h2>开放时间</h2><p>每周二至周日上午九点开放。</p><h2>借阅规则</h2><p>每人每次可借图书五册。</p>"
        "</body></html>".encode("gbk")
    )
    document = read_report(path)
    assert (document.format, document.title) == ("html", "社区图书馆开放通知")
    assert document.text.startswith("社区图书馆开放通知\n\n")
    assert [s.heading for s in document.sections] == ["开放时间", "借阅规则"]
    assert [p.text for p in document.paragraphs] == ["每周二至周日上午九点开放。", "每人每次可借图书五册。"]


# --- pdf -----------------------------------------------------------------------------------


def test_pdf_lines_join_without_blanks_in_cjk_and_with_blanks_between_latin_words() -> None:
    assert join_lines(["第一行没有结束，", "第二行继续，2011", "年完成。"]) == "第一行没有结束，第二行继续，2011年完成。"
    assert join_lines(["quality management,", "system ISO", "9001 and dev-", "ops"]) == "quality management, system ISO 9001 and dev-ops"


def test_radicals_are_repaired_to_ideographs() -> None:
    assert repair_radicals("现有员⼯88⼈") == "现有员工88人"  # Kangxi radicals U+2F2F, U+2F08
    assert repair_radicals("⻓期服务⻔户") == "长期服务门户"  # CJK Radicals Supplement U+2ED3, U+2ED4
    assert repair_radicals("客⼾", "NotoSansCJKsc-Regular") == "客户"
    assert repair_radicals("客⼾", "NotoSansCJKtc-Regular") == "客戶"
    assert repair_radicals("普通文字 ABC") == "普通文字 ABC"


@needs_chromium
@pytest.mark.parametrize(
    ("css", "paragraphs"),
    [
        ("p { margin: 1em 0; }", OPEN_PARAGRAPHS),
        ("p { margin: 0; text-indent: 2em; }", OPEN_PARAGRAPHS),
        ("p { margin: 0; }", PARAGRAPHS),
    ],
    ids=["gaps", "first-line-indent", "short-last-line-after-sentence-end"],
)
def test_pdf_lines_join_into_paragraphs_without_page_furniture(tmp_path: Path, css: str, paragraphs: list[str]) -> None:
    sections = [f"<h2>第{n}部分 工作安排</h2>" + "".join(f"<p>{p}</p>" for p in paragraphs[n * 4 - 4:n * 4]) for n in (1, 2, 3)]
    html = (
        f'<html lang="zh-CN"><meta charset="utf-8"><title>年度工作报告</title><style>{css}</style>'
        f"<body><h1>年度工作报告</h1>{''.join(sections)}</body></html>"
    )
    path = chromium_pdf(html, tmp_path)

    document = read_report(path)
    assert (document.format, document.title) == ("pdf", "年度工作报告")
    assert [s.heading for s in document.sections] == ["第1部分 工作安排", "第2部分 工作安排", "第3部分 工作安排"]
    assert [p.text for p in document.paragraphs] == paragraphs
    assert "file://" not in document.text and "/" not in document.text
    assert not re.search("[\u2e80-\u2fdf]", document.text)
    assert_offsets_round_trip(document)


@needs_chromium
def test_pdf_bold_line_at_body_size_is_a_heading(tmp_path: Path) -> None:
    html = (
        '<html lang="zh-CN"><meta charset="utf-8"><body><h1>社区服务情况汇报</h1>'
        f"<p><b>养老服务</b></p><p>{PARAGRAPHS[0]}</p><p><b>托育服务</b></p><p>{PARAGRAPHS[1]}</p></body></html>"
    )
    document = read_report(chromium_pdf(html, tmp_path, header_footer=False))
    assert document.title == "社区服务情况汇报"
    assert [s.heading for s in document.sections] == ["养老服务", "托育服务"]
    assert [p.text for p in document.paragraphs] == PARAGRAPHS[:2]


@needs_chromium
def test_pdf_without_text_layer_is_refused(tmp_path: Path) -> None:
    html = (
        '<html><body><svg width="400" height="300"><rect x="20" y="20" width="300" height="200" fill="#456"/>'
        '<circle cx="200" cy="150" r="60" fill="#fa0"/></svg></body></html>'
    )
    path = chromium_pdf(html, tmp_path, header_footer=False)
    assert "no text layer" in one_line_error(path)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf writes the encrypted PDF")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", algorithm="AES-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    assert "encrypted" in one_line_error(path)


def _zip_without_word_parts() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(TEST_DATA / "headings_own_lines.txt", "notes.txt")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("random.docx", bytes(range(256)) * 8),
        ("empty.docx", b""),
        ("archive.docx", _zip_without_word_parts()),
        ("random.pdf", bytes(range(256)) * 8),
        ("truncated.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\n"),
        ("empty.pdf", b""),
        ("binary.html", b"\x00\x01\x02binary\x00" * 40),
        ("empty.html", b""),
    ],
)
def test_damaged_files_are_refused_with_one_line(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    one_line_error(path)


def test_parser_libraries_load_only_when_their_format_is_read() -> None:
    code = "import sys, qa, qa.documents.ingest; print(sorted(m for m in ('docx', 'pdfplumber', 'trafilatura') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[]"
