"""Structure recovery: the seed report, small reports in other shapes, encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.documents.ingest import ReportError, decode_report, read_report
from qa.documents.readers.text import parse_report
from qa.documents.structure import split_sentences

from conftest import TEST_DATA

SEED_HEADINGS = [
    "山东检验检疫局机关党委为民服务写忠诚",
    "厦门检验检疫局党组敢想爱拼赢荣誉",
    "北京海淀检验检疫局党支部创新手段促发展",
    "中国标准化研究院第六党支部科技兴检带队伍",
    "广东东莞检验检疫局凤岗办党支部党员奉献在岗位",
    "中国合格评定国家认可中心党委立足本职践承诺",
    "深圳宝安检验检疫局党总支服务外贸抓根本",
    "国家标准委农业食品标准部党支部深化农业标准化",
]


def assert_offsets_round_trip(document) -> None:
    text = document.text
    for section in document.sections:
        assert text[section.heading_start:section.heading_end] == section.heading
        for paragraph in section.paragraphs:
            assert text[paragraph.start:paragraph.end] == paragraph.text
            assert paragraph.text == paragraph.text.strip()
            for sentence in paragraph.sentences:
                assert text[sentence.start:sentence.end] == sentence.text
            # sentences cover every non-blank character of the paragraph, in order
            assert "".join(s.text for s in paragraph.sentences).replace(" ", "") == paragraph.text.replace(" ", "")


def test_seed_structure(seed_report: Path) -> None:
    document = read_report(seed_report)
    assert document.title == "全国质检系统创先争优专题报道（一）"
    assert [s.heading for s in document.sections] == SEED_HEADINGS
    assert document.sections[0].subheadings == ("增强服务意识", "提高服务本领", "提升服务成效")
    assert all(not s.subheadings for s in document.sections[1:])
    assert len(document.paragraphs) == 57
    assert [p.index for p in document.paragraphs] == list(range(57))
    assert_offsets_round_trip(document)


def test_seed_headings_are_cut_from_paragraph_ends(seed_report: Path) -> None:
    document = read_report(seed_report)
    for previous, section in zip(document.sections, document.sections[1:]):
        last = previous.paragraphs[-1]
        assert not last.text.endswith(section.heading)
        assert last.text[-1] in "。！？”…"
        assert section.heading_start >= last.end


def test_seed_subsections_and_numbering(seed_report: Path) -> None:
    first = read_report(seed_report).sections[0]
    assert [p.subsection for p in first.paragraphs[:3]] == [None, None, None]
    assert {p.subsection for p in first.paragraphs[3:]} == set(first.subheadings)
    assert [p.number for p in first.paragraphs] == list(range(1, len(first.paragraphs) + 1))


def test_sentence_ending_inside_quote_ends_after_the_quote() -> None:
    sentences = split_sentences("他说：“今天开会。”大家都同意。最后一句没有句号")
    assert [s.text for s in sentences] == ["他说：“今天开会。”", "大家都同意。", "最后一句没有句号"]


def test_decimal_point_does_not_split_a_sentence() -> None:
    assert len(split_sentences("增长了1.5倍，达到ISO9001.标准。")) == 1


@pytest.mark.parametrize(
    ("name", "title", "headings", "subheadings", "paragraph_counts"),
    [
        ("headings_own_lines.txt", "城市绿化年度报告", ["第一部分 公园建设", "第二部分 行道树养护"], [(), ()], [2, 2]),
        ("one_per_line.txt", "社区图书馆开放通知", ["社区图书馆开放通知"], [()], [3]),
        ("markdown_report.md", "河流治理工作简报", ["上游治理", "下游监测"], [("清淤工程", "护岸建设"), ()], [2, 1]),
        ("glued_headings.txt", "农村电商发展调查（二）", ["甲县电商服务站覆盖全部乡镇", "乙县快递进村打通最后一公里"], [(), ()], [2, 2]),
    ],
)
def test_small_reports_in_other_shapes(name, title, headings, subheadings, paragraph_counts) -> None:
    document = read_report(TEST_DATA / name)
    assert document.title == title
    assert [s.heading for s in document.sections] == headings
    assert [s.subheadings for s in document.sections] == subheadings
    assert [len(s.paragraphs) for s in document.sections] == paragraph_counts
    assert_offsets_round_trip(document)


def test_markdown_markers_are_not_part_of_headings() -> None:
    document = read_report(TEST_DATA / "markdown_report.md")
    assert all("#" not in s.heading for s in document.sections)
    assert document.sections[0].paragraphs[1].subsection == "护岸建设"


def test_gb18030_report_reads_like_utf8(tmp_path: Path, seed_report: Path) -> None:
    text = seed_report.read_text(encoding="utf-8")
    gb_file = tmp_path / "report.txt"
    gb_file.write_bytes(text.replace("\u00a0", "  ").encode("gb18030"))
    utf8 = parse_report(text.replace("\u00a0", "  "))
    document = read_report(gb_file)
    assert document.text == utf8.text
    assert [s.heading for s in document.sections] == SEED_HEADINGS
    assert len(document.paragraphs) == 57


def test_bom_and_crlf_are_normalized(tmp_path: Path, seed_report: Path) -> None:
    text = seed_report.read_text(encoding="utf-8")
    bom_file = tmp_path / "report.txt"
    bom_file.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    document = read_report(bom_file)
    assert document.text == text
    assert document.title == "全国质检系统创先争优专题报道（一）"
    assert_offsets_round_trip(document)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n\t  ", "empty"),
        (b"\x00\x01\x02binary\x00data" * 10, "binary"),
        (bytes(range(256)) * 4, "binary"),
    ],
)
def test_unreadable_bytes_are_refused_with_one_line(data: bytes, message: str) -> None:
    with pytest.raises(ReportError) as error:
        decode_report(data, name="x.txt")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file_and_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such report"):
        read_report(tmp_path / "missing.txt")
    rtf = tmp_path / "report.rtf"
    rtf.write_bytes(b"{\\rtf1 report}")
    with pytest.raises(ReportError, match="unsupported"):
        read_report(rtf)
    with pytest.raises(ReportError, match="no report file"):
        read_report(tmp_path / "empty_dir" if (tmp_path / "empty_dir").mkdir() is None else tmp_path)
