"""Pure functions turning answers and the report into safe HTML (and chat text).

Everything that comes from the report or the user goes through :func:`esc` (HTML) or
:func:`chat_text` (Chatbot Markdown), so a passage always displays exactly as in the report and
nothing in it can run or be reinterpreted as markup.
"""

from __future__ import annotations

import html
import re
import unicodedata

from collections.abc import Sequence
from typing import Any

from qa import Answer, Document, Passage, QuestionError

SIGNAL_LABELS: dict[str, str] = {"bm25": "关键词", "dense": "向量", "fused": "融合", "answer": "答案证据"}
NO_ANSWER = "报告中没有找到答案"
NEAREST = "最接近的段落（不是答案）"
QUESTION_DISPLAY_CHARS = 300

# Characters a client-side template engine (gr.HTML's ``${value}`` / Handlebars) might act on.
_TEMPLATE_SPECIALS = str.maketrans({"$": "&#36;", "{": "&#123;", "}": "&#125;", "`": "&#96;"})
# ASCII punctuation Markdown (and LaTeX delimiters) may interpret; each gets a backslash escape.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|$~\"'=:^])")


def esc(text: str) -> str:
    """Escape text for raw HTML (content and attribute values), template specials included."""
    return html.escape(text, quote=True).translate(_TEMPLATE_SPECIALS)


def chat_text(text: str) -> str:
    """Neutralize text shown in a Markdown-rendering Chatbot: it renders literally, never as markup."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def display_question(question: str, limit: int = QUESTION_DISPLAY_CHARS) -> str:
    """The question as shown back to the user: control characters dropped, shortened to ``limit``."""
    kept = (" " if ch.isspace() else ch for ch in question if ch.isspace() or unicodedata.category(ch)[0] != "C")
    shown = " ".join("".join(kept).split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def marked(passage: Passage) -> str:
    """The passage's text escaped, each highlight wrapped in ``<mark>`` and the answer span inside
    it in ``<strong class="answer-span">``."""
    out, current = [], None
    for piece, highlight, answer in passage.pieces():
        if highlight != current:
            out.append(("</mark>" if current is not None else "") + ("<mark>" if highlight is not None else ""))
            current = highlight
        out.append(f'<strong class="answer-span">{esc(piece)}</strong>' if answer else esc(piece))
    out.append("</mark>" if current is not None else "")
    return "".join(out)


def score_items(passage: Passage) -> list[tuple[str, float]]:
    """(label, value) for each retriever signal present: keyword, vector and, in hybrid mode, fused."""
    return [(SIGNAL_LABELS.get(name, name), value) for name, value in passage.signals.items()]


def where(passage: Passage) -> str:
    """``section`` or ``section / sub-heading`` of a passage."""
    citation = passage.citation
    return citation.section + (f" / {citation.subsection}" if citation.subsection else "")


def copy_text(passage: Passage) -> str:
    """What a card's copy button puts on the clipboard: the passage, then its full citation."""
    citation = passage.citation
    title = f"《{citation.document}》" if citation.document else ""
    return f"{passage.text}\n——{title}（{citation.source}）{citation.label} {where(passage)}"


def cited_sources(answer: Answer) -> list[str]:
    """The documents an answer cites, each once, in rank order: the report panel's documents."""
    return list(dict.fromkeys(p.citation.source for p in answer.passages))


def para_id(slot: int, index: int) -> str:
    """HTML id of paragraph ``index`` of the panel's document number ``slot``."""
    return f"doc-{slot}-para-{index}"


def cite_link(passage: Passage, slot: int) -> str:
    """The citation label as a link to the paragraph in document ``slot`` of the report panel."""
    n = passage.paragraph_index
    return (
        f'<a href="#{para_id(slot, n)}" class="cite" data-doc="{slot}" data-para="{n}" '
        f'title="在右侧全文中查看">{esc(passage.citation.label)}</a>'
    )


def evidence_card(passage: Passage, slot: int, *, nearest: bool = False) -> str:
    """One passage: citation link (to document ``slot`` of the panel), document title, section,
    sub-heading, verbatim text with marks, scores, copy button."""
    citation = passage.citation
    document = (
        f'<span class="doc-title" title="{esc(citation.source)}">《{esc(citation.document or citation.source)}》</span>'
    )
    subsection = f'<span class="subsection">{esc(citation.subsection)}</span>' if citation.subsection else ""
    badge = '<span class="badge not-answer">不是答案</span>' if nearest else ""
    scores = "".join(
        f'<span class="score"><span class="score-name">{esc(label)}</span> {value:.3f}</span>'
        for label, value in score_items(passage)
    )
    return (
        f'<article class="card{" nearest" if nearest else ""}" data-rank="{passage.rank}">'
        f'<header class="card-head"><span class="rank">{passage.rank}</span>{cite_link(passage, slot)}{document}'
        f'<span class="section">{esc(citation.section)}</span>{subsection}{badge}</header>'
        f'<blockquote class="passage">{marked(passage)}</blockquote>'
        f'<footer class="card-foot"><span class="scores">{scores}</span>'
        f'<button type="button" class="copy" data-copy="{esc(copy_text(passage))}">复制原文与出处</button>'
        "</footer></article>"
    )


def _question_line(question: str) -> str:
    return f'<div class="asked"><span class="asked-label">问</span>{esc(display_question(question))}</div>'


def answer_html(answer: Answer) -> str:
    """The evidence area for one answer: cited cards, or the no-answer notice and nearest passages.

    Citation links point into the report panel built from :func:`cited_sources`.
    """
    slots = {source: slot for slot, source in enumerate(cited_sources(answer))}
    if answer.answered:
        head = f'<div class="verdict found">报告原文中的证据（共 {len(answer.passages)} 段，逐字引用）</div>'
        cards = "".join(evidence_card(p, slots[p.citation.source]) for p in answer.passages)
        return f'<div class="evidence answered">{_question_line(answer.question)}{head}{cards}</div>'
    reason = f'<div class="reason">{esc(answer.reason)}</div>' if answer.reason else ""
    nearest = (
        f'<div class="nearest-label">{NEAREST}</div>'
        + "".join(evidence_card(p, slots[p.citation.source], nearest=True) for p in answer.passages)
        if answer.passages
        else ""
    )
    return (
        f'<div class="evidence abstained">{_question_line(answer.question)}'
        f'<div class="verdict none">{NO_ANSWER}</div>{reason}{nearest}</div>'
    )


QUESTION_ERRORS = {
    "empty": "问题是空的，请输入要查找的内容。",
    "too_long": "问题太长，请缩短到 2000 字以内。",
    "not_text": "问题必须是文字。",
}


def question_error(error: QuestionError) -> str:
    """The Chinese wording of a refused question."""
    return QUESTION_ERRORS.get(error.code, str(error))


def error_html(question: str, message: str) -> str:
    """The evidence area when the question cannot be asked."""
    return (
        f'<div class="evidence error">{_question_line(question)}'
        f'<div class="verdict bad">无法提问：{esc(message)}</div></div>'
    )


def placeholder_html() -> str:
    """The evidence area before the first question."""
    return '<div class="evidence empty">提问后，这里逐字列出报告中的证据段落，点击出处可在右侧全文中定位。</div>'


def chat_reply(answer: Answer) -> str:
    """The assistant's chat message: only quoted report text and fixed notices, never generated prose."""
    if not answer.answered:
        return f"**{NO_ANSWER}。** 下方列出的是{NEAREST}。"
    top = answer.passages[0]
    quoted = " … ".join(h.text for h in sorted(top.highlights, key=lambda h: h.start)) or top.text
    cited = f"《{top.citation.document or top.citation.source}》{top.citation.label} {where(top)}"
    return f"> {chat_text(quoted)}\n\n出处：{chat_text(cited)}（完整段落见下方证据）"


def report_panel(documents: Sequence[Document], selected: tuple[int, int] | None = None) -> str:
    """The panel of whole documents: each one's title, sections, sub-headings and every paragraph
    (``id="doc-K-para-N"``). Only one document shows at a time: the selected paragraph's
    (``(slot, paragraph index)``), else the first; citation links switch between them."""
    shown = selected[0] if selected else 0
    parts = ['<div class="report-panel" id="report-panel">']
    for slot, document in enumerate(documents):
        hidden = "" if slot == shown else " hidden"
        parts.append(
            f'<div class="doc" data-doc="{slot}" data-source="{esc(document.source)}"{hidden}>'
            f'<h2 class="report-title">{esc(document.title or "报告全文")}</h2>'
            f'<div class="report-source">{esc(document.source)}</div>'
        )
        for section in document.sections:
            parts.append(
                f'<section class="report-section">'
                f'<h3 class="heading"><span class="sec-no">§{section.index + 1}</span> {esc(section.heading)}</h3>'
            )
            subsection = None
            for paragraph in section.paragraphs:
                if paragraph.subsection and paragraph.subsection != subsection:
                    parts.append(f'<h4 class="subheading">{esc(paragraph.subsection)}</h4>')
                subsection = paragraph.subsection
                css = "para selected" if selected == (slot, paragraph.index) else "para"
                parts.append(
                    f'<p class="{css}" id="{para_id(slot, paragraph.index)}" data-doc="{slot}" '
                    f'data-para="{paragraph.index}"><span class="para-no">¶{paragraph.number}</span>{esc(paragraph.text)}</p>'
                )
            parts.append("</section>")
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


FORMAT_LABELS = {"txt": "TXT", "md": "Markdown", "docx": "Word", "pdf": "PDF", "html": "HTML"}


def library_html(summaries: Sequence[dict[str, Any]]) -> str:
    """The library's documents as a table (title, format, paragraphs, source), then unreadable files."""
    rows = []
    for item in summaries:
        if "error" in item:
            rows.append(
                f'<tr class="unreadable"><td colspan="3">不可读：{esc(item["error"])}</td>'
                f'<td class="source">{esc(item["source"])}</td></tr>'
            )
        else:
            rows.append(
                f'<tr><td class="title">{esc(item["title"] or item["source"])}</td>'
                f'<td>{esc(FORMAT_LABELS.get(item["format"], item["format"]))}</td>'
                f'<td class="count">{item["paragraphs"]}</td><td class="source">{esc(item["source"])}</td></tr>'
            )
    readable = sum("error" not in item for item in summaries)
    return (
        f'<div class="library" id="library"><div class="library-count">文档库：{readable} 份文档</div>'
        '<table><thead><tr><th>标题</th><th>格式</th><th>段落</th><th>文件</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div>'
    )
