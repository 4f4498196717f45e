"""ui.render: escaping, verbatim passages, highlight offsets, citation links, abstentions."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from qa import Answer, Citation, Highlight, Passage
from ui import render
from ui.app import ask_json, respond

XSS = '<img src=x onerror=alert(1)><script>window.__xss=1</script>'
TRICKY = 'a $x$ **b** _i_ `c` [l](javascript:x) # h \\ ${1+1} {{v}} & "q" \'s\' ' + XSS


class Tree(HTMLParser):
    """Collects, per element matched by (tag, class or id), the decoded text inside it, and all tags."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self.open: list[list[str]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parts: list[str] = []
        self.elements.append((tag, {k: v or "" for k, v in attrs}, parts))
        self.stack.append((tag, dict(attrs)))
        self.open.append(parts)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1][0] == tag, f"unbalanced </{tag}>"
        self.stack.pop()
        self.open.pop()

    def handle_data(self, data: str) -> None:
        for parts in self.open:
            parts.append(data)

    def find(self, tag: str, css: str | None = None) -> list[tuple[dict[str, str], str]]:
        return [
            (attrs, "".join(parts))
            for t, attrs, parts in self.elements
            if t == tag and (css is None or css in attrs.get("class", "").split())
        ]

    def tags(self) -> set[str]:
        return {t for t, _, _ in self.elements}


def make_passage(text: str, highlights=(), signals=None, rank: int = 1, paragraph_index: int = 7) -> Passage:
    citation = Citation("报告<标题>", "dir/<x>.docx", "第*一*节 $s$", 2, "小节_a_", 3, 100, 100 + len(text))
    return Passage(rank, 0.5, text, citation, paragraph_index, tuple(highlights), signals or {"bm25": 1.5})


def test_passage_and_question_show_literally_and_nothing_executes() -> None:
    passage = make_passage(TRICKY)
    html = render.answer_html(Answer(TRICKY, True, (passage,)))
    tree = Tree(html)
    assert tree.tags() <= {"div", "span", "article", "header", "a", "blockquote", "footer", "button"}
    [(attrs, title)] = tree.find("span", "doc-title")
    assert title == "《报告<标题>》" and attrs["title"] == "dir/<x>.docx"
    assert "<img" not in html and "<script" not in html and "${" not in html and "{{" not in html
    [(_, shown)] = tree.find("blockquote", "passage")
    assert shown == TRICKY
    [(_, asked)] = tree.find("div", "asked")
    assert asked == "问" + TRICKY
    [(_, section)] = tree.find("span", "section")
    assert section == "第*一*节 $s$"


def test_highlights_are_marked_at_their_offsets() -> None:
    text = "第一句。现有员工88人，承担任务；第三句<b>。"
    first = Highlight(4, 17, text[4:17])
    last = Highlight(17, len(text), text[17:])
    html = render.evidence_card(make_passage(text, [last, first]), 0)
    tree = Tree(html)
    assert [t for _, t in tree.find("mark")] == [text[4:17], text[17:]]
    [(_, shown)] = tree.find("blockquote", "passage")
    assert shown == text
    assert html.index("<mark>") == html.index("第一句。") + len("第一句。")


def test_overlapping_or_out_of_range_highlights_never_duplicate_text() -> None:
    text = "甲乙丙丁戊"
    html = render.marked(make_passage(text, [Highlight(1, 3, "乙丙"), Highlight(2, 4, "丙丁"), Highlight(9, 12, "")]))
    assert Tree(f"<p>{html}</p>").find("p")[0][1] == text
    assert [t for _, t in Tree(html).find("mark")] == ["乙丙", "丁"]


def test_citation_link_points_at_the_paragraph_in_the_report_panel(assistant) -> None:
    answer = assistant.ask("凤岗办事处有多少名员工？")
    cards = Tree(render.answer_html(answer))
    links = cards.find("a", "cite")
    assert [text for _, text in links] == [p.citation.label for p in answer.passages]
    for (attrs, _), passage in zip(links, answer.passages):
        assert attrs["href"] == f"#doc-0-para-{passage.paragraph_index}"
        assert (attrs["data-doc"], attrs["data-para"]) == ("0", str(passage.paragraph_index))
    top = answer.passages[0].paragraph_index
    document = assistant.library.document(answer.passages[0].citation.source)
    panel = Tree(render.report_panel([document], selected=(0, top)))
    paragraphs = {attrs["id"]: (attrs, text) for attrs, text in panel.find("p", "para")}
    assert len(paragraphs) == len(document.paragraphs)
    for paragraph in document.paragraphs:
        attrs, text = paragraphs[f"doc-0-para-{paragraph.index}"]
        assert text == f"¶{paragraph.number}{paragraph.text}"
        assert ("selected" in attrs["class"].split()) == (paragraph.index == top)
    headings = [text for _, text in panel.find("h3", "heading")]
    assert headings == [f"§{s.index + 1} {s.heading}" for s in document.sections]
    assert [t for _, t in panel.find("h2", "report-title")] == [document.title]


def test_panel_holds_each_cited_document_and_shows_the_selected_one() -> None:
    from qa.documents.readers.text import parse_report

    first = parse_report("甲报告\n一节\n第一段。\n", source="a.txt")
    second = parse_report("乙报告\n二节\n第一段。\n第二段。\n", source="b/c.md")
    panel = Tree(render.report_panel([first, second], selected=(1, 1)))
    documents = panel.find("div", "doc")
    assert [(a["data-doc"], a["data-source"], "hidden" in a) for a, _ in documents] == [
        ("0", "a.txt", True), ("1", "b/c.md", False)
    ]
    [(attrs, text)] = [(a, t) for a, t in panel.find("p", "para") if "selected" in a["class"].split()]
    assert attrs["id"] == "doc-1-para-1" and text == "¶2第二段。"


def test_scores_show_each_signal_present() -> None:
    only_bm25 = Tree(render.evidence_card(make_passage("文", signals={"bm25": 12.3}), 0))
    assert [t for _, t in only_bm25.find("span", "score-name")] == ["关键词"]
    hybrid = Tree(render.evidence_card(make_passage("文", signals={"bm25": 12.3, "dense": 0.88, "fused": 0.5}), 0))
    assert [t for _, t in hybrid.find("span", "score")] == ["关键词 12.300", "向量 0.880", "融合 0.500"]


def test_copy_button_carries_passage_and_full_citation() -> None:
    passage = make_passage(TRICKY)
    [(attrs, _)] = Tree(render.evidence_card(passage, 0)).find("button", "copy")
    assert attrs["data-copy"] == f"{TRICKY}\n——《报告<标题>》（dir/<x>.docx）§2 ¶3 第*一*节 $s$ / 小节_a_"


def test_abstention_is_not_an_answer() -> None:
    nearest = (make_passage("最近的段落", rank=1), make_passage("其次", rank=2, paragraph_index=9))
    html = render.answer_html(Answer("局长叫什么名字？", False, nearest, reason="no passage"))
    tree = Tree(html)
    [(_, verdict)] = tree.find("div", "verdict")
    assert verdict == render.NO_ANSWER == "报告中没有找到答案"
    assert [t for _, t in tree.find("div", "nearest-label")] == ["最接近的段落（不是答案）"]
    assert len(tree.find("article", "nearest")) == 2 and len(tree.find("article", "card")) == 2
    assert [t for _, t in tree.find("span", "not-answer")] == ["不是答案", "不是答案"]
    answered = Tree(render.answer_html(Answer("q", True, nearest)))
    assert not answered.find("article", "nearest") and render.NO_ANSWER not in render.answer_html(Answer("q", True, nearest))
    assert render.NO_ANSWER in render.chat_reply(Answer("q", False, nearest))


@pytest.mark.parametrize("text", [TRICKY, "**粗** _斜_ $$E=mc^2$$ \\(x\\) <b>b</b> 1. 列表", "# 标题\n- 项"])
def test_chat_text_renders_literally_through_markdown(text: str) -> None:
    rendered = MarkdownIt("commonmark").render(render.chat_text(text))
    tree = Tree(rendered)
    assert tree.tags() == {"p"}
    assert "".join(t for _, t in tree.find("p")) == text


def test_display_question_drops_control_characters_and_shortens() -> None:
    assert render.display_question("a\x00b\u200bc\x07 d\n e") == "abc d e"
    assert len(render.display_question("问" * 5000)) == render.QUESTION_DISPLAY_CHARS


@pytest.mark.parametrize("question", ["", "   \x00\x07 ", "问" * 5000, None])
def test_bad_question_gives_an_error_object_not_a_traceback(assistant, question) -> None:
    result = ask_json(assistant, question)
    assert result["answered"] is False and result["passages"] == []
    assert result["error"] and "\n" not in result["error"]
    history, evidence, _, cleared, answer = respond(assistant, question, [])
    assert cleared == "" and [m["role"] for m in history] == ["user", "assistant"] and answer is None
    assert "无法提问" in evidence
    shown = [m for m in render.QUESTION_ERRORS.values() if m in history[-1]["content"].replace("\\", "")]
    assert len(shown) == 1 and shown[0] in evidence


def test_chat_turn_shows_the_question_escaped(assistant) -> None:
    history, evidence, panel, _, _ = respond(assistant, XSS, [{"role": "user", "content": "早先"}])
    assert history[0] == {"role": "user", "content": "早先"}
    user = history[1]["content"]
    assert "<" not in user and Tree(MarkdownIt("commonmark").render(user)).find("p")[0][1] == XSS
    assert "<img" not in evidence and "<script" not in evidence


def test_library_table_lists_documents_and_unreadable_files_escaped() -> None:
    rows = [
        {"source": "a/<b>.docx", "title": "报告<i>一</i>", "format": "docx", "sections": 2, "paragraphs": 7, "indexed": True},
        {"source": "bad.pdf", "error": "this PDF has no text layer <scan>"},
    ]
    html = render.library_html(rows)
    tree = Tree(html)
    assert "<i>" not in html and "<b>" not in html and "<scan>" not in html
    assert [t for _, t in tree.find("td", "title")] == ["报告<i>一</i>"]
    assert [t for _, t in tree.find("td", "source")] == ["a/<b>.docx", "bad.pdf"]
    assert [t for _, t in tree.find("tr", "unreadable")] == ["不可读：this PDF has no text layer <scan>bad.pdf"]
    assert [t for _, t in tree.find("div", "library-count")] == ["文档库：1 份文档"]
