"""The Gradio chat UI: chat and evidence cards on the left; the library, uploads and the cited
documents on the right.

``build_app(assistant)`` builds the Blocks; ``launch(app, host, port)`` starts it with the page's
CSS and script (gradio 6 takes them in ``launch()``); ``serve`` does both and blocks.
The app makes no outside requests and exposes ``/ask`` (question, optional document sources →
the contract JSON object), ``/add_report`` (file → the new document's ``list`` object),
``/remove_report`` (an upload's source → ``{"removed": source}``) and ``/audit_log`` (→ the audit
log's last entries). With an :class:`qa.Access` that has users, page and API require sign-in and
each endpoint checks its user's role (see :mod:`ui.team`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from qa import (  # noqa: E402
    MAX_UPLOAD_BYTES,
    SUPPORTED_SUFFIXES,
    Access,
    Answer,
    Assistant,
    NotAllowed,
    QuestionError,
    ReportError,
    UnknownDocument,
    ocr_progress,
    refusal,
    size_text,
)
from ui import page_view, render, team  # noqa: E402

ASSETS = Path(__file__).resolve().parent / "assets"
EXAMPLES = (
    "凤岗办事处有多少名员工？",
    "凤岗办全年哪几天停止办理业务？",
    "厦门局设立了多少个党员先锋岗？",
    "山东检验检疫局的局长叫什么名字？",
)
# The chat and the API share one queue of questions, answered by up to WORKERS threads at once
# (Assistant.ask is thread-safe; concurrent query encodes are batched, see embeddings.batching).
CONCURRENCY_ID = "assistant"
WORKERS = 8  # measured with 20 clients on 2 cores: 1, 2, 4, 8, 16 threads gave 55, 47, 65, 77, 81 q/s
UPLOAD_CONCURRENCY_ID = "upload"  # adds run one at a time; questions go on meanwhile
UPLOAD_TYPES = tuple(sorted(SUPPORTED_SUFFIXES))

Message = dict[str, Any]


def ask_json(assistant: Assistant, question: Any, documents: list[str] | None = None) -> dict[str, Any]:
    """The contract JSON object for one question; a bad question or an unknown document gives
    ``answered: false`` and ``error``."""
    try:
        return assistant.ask(question, documents=documents or None).to_dict()
    except (QuestionError, UnknownDocument) as error:
        return refusal(question, str(error))


def add_report_json(assistant: Assistant, path: str | None, name: str | None = None, access: Access = Access(),
                    user: str | None = None) -> dict[str, Any]:
    """Add an uploaded file to the library for ``user``: its ``list`` object, or ``{"error": ...}``
    with the library left as it was."""
    try:
        name_in_log = access.check(user, "add")
    except NotAllowed as error:
        return {"error": str(error)}
    if not path:
        return {"error": "no file was uploaded"}
    try:
        return assistant.add_report(path, name, user=name_in_log)
    except ReportError as error:
        return {"error": str(error)}


def respond(
    assistant: Assistant, question: str | None, history: list[Message] | None, documents: list[str] | None = None
) -> tuple[list[Message], str, str, str, Answer | None]:
    """One chat turn: (chat history, evidence HTML, report panel HTML, cleared textbox, the answer
    the page view marks)."""
    question = question or ""
    history = list(history or [])
    try:
        answer = assistant.ask(question, documents=documents or None)
    except (QuestionError, UnknownDocument) as error:
        return refused(question, history, render.question_error(error) if isinstance(error, QuestionError) else str(error))
    library = assistant.library
    documents_cited = [library.document(source) for source in render.cited_sources(answer)]
    top = answer.passages[0] if answer.answered and answer.passages else None
    selected = (0, top.paragraph_index) if top else None
    history += [user_message(question), {"role": "assistant", "content": render.chat_reply(answer)}]
    panel = render.report_panel(documents_cited or library.documents[:1], selected)
    return history, render.answer_html(answer), panel, "", answer


def refused(question: str, history: list[Message], message: str) -> tuple[list[Message], str, Any, str, None]:
    """A chat turn that is not answered, with the reason: (chat history, evidence HTML, report
    panel left as it is, cleared textbox, no answer)."""
    reply = {"role": "assistant", "content": f"**无法提问：** {render.chat_text(message)}"}
    return [*history, user_message(question), reply], render.error_html(question, message), gr.skip(), "", None


def user_message(question: str) -> Message:
    """The chat message showing the user's question."""
    return {"role": "user", "content": render.chat_text(render.display_question(question))}


def document_choices(assistant: Assistant) -> list[tuple[str, str]]:
    """(label, source) of every document, for the filter and the document viewer."""
    return [(f"{d.title or d.source}（{d.source}）", d.source) for d in assistant.library.documents]


def upload(assistant: Assistant, path: str | None, progress: gr.Progress, access: Access = Access(),
           user: str | None = None) -> tuple[str, str, Any, Any, Any, None]:
    """Add an uploaded file for ``user``: (status HTML, library HTML, filter update, viewer update,
    removable uploads update, cleared upload control, ready for the next file)."""
    if not path:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), None
    progress(0.1, desc="读取文件")
    name = Path(path).name
    with ocr_progress(lambda done, total: progress((done, total), desc="识别扫描页（OCR）", unit="页")):
        result = add_report_json(assistant, path, name, access, user)
    progress(1.0, desc="完成")
    if "error" in result:
        status = f'<div class="verdict bad">未加入文档库：{render.esc(result["error"])}</div>'
        return status, gr.skip(), gr.skip(), gr.skip(), gr.skip(), None
    status = (
        f'<div class="verdict found">已加入文档库：{render.esc(name)}（《{render.esc(result["title"] or name)}》，'
        f'{result["paragraphs"]} 段），可以提问了。</div>'
    )
    return (status, *library_updates(assistant, result["source"]), None)


def remove(assistant: Assistant, source: str | None, access: Access = Access(),
           user: str | None = None) -> tuple[str, Any, Any, Any, Any]:
    """Remove an upload for ``user``: (status HTML, library HTML, filter update, viewer update,
    removable uploads update)."""
    result = team.remove_report_json(assistant, access, source, user)
    if "error" in result:
        return f'<div class="verdict bad">未删除：{render.esc(result["error"])}</div>', gr.skip(), gr.skip(), gr.skip(), gr.skip()
    status = f'<div class="verdict found">已删除：{render.esc(result["removed"])}，它的段落不再用于回答。</div>'
    return (status, *library_updates(assistant, assistant.library.sources[0]))


def library_updates(assistant: Assistant, shown: str) -> tuple[str, Any, Any, Any]:
    """After the library changed: (library HTML, filter update, viewer update showing document
    ``shown``, removable uploads update)."""
    choices = document_choices(assistant)
    return (
        render.library_html(assistant.summaries()),
        gr.update(choices=choices),
        gr.update(choices=choices, value=shown),
        gr.update(choices=assistant.uploaded(), value=None),
    )


def view(assistant: Assistant, source: str | None) -> str:
    """The report panel showing one document (the first when ``source`` is unknown)."""
    library = assistant.library
    document = library.document(source) if source in library.sources else library.documents[0]
    return render.report_panel([document])


def build_app(assistant: Assistant, access: Access = Access(), workers: int = WORKERS) -> gr.Blocks:
    """The Blocks app for ``assistant``: chat, examples, document filter, evidence cards, library
    with uploads and their removal, the audit log, report panel, and the ``/ask``,
    ``/add_report``, ``/remove_report`` and ``/audit_log`` endpoints, each allowed by ``access``
    to the request's user."""

    def chat(question: str, history: list[Message], documents: list[str] | None,
             request: gr.Request) -> tuple[list[Message], str, Any, str, Answer | None]:
        try:
            access.check(team.user_of(request), "ask")
        except NotAllowed as error:
            return refused(question or "", list(history or []), str(error))
        return respond(assistant, question, history, documents)

    def ask(question: str, documents: list[str] | None = None, request: gr.Request = None) -> dict[str, Any]:
        """Answer one question from the library (or only from ``documents``, a list of sources):
        the report-qa JSON object (verbatim passages, citations)."""
        try:
            access.check(team.user_of(request), "ask")
        except NotAllowed as error:
            return refusal(question, str(error))
        return ask_json(assistant, question, documents)

    def add_report(file: str | None, request: gr.Request) -> dict[str, Any]:
        return add_report_json(assistant, file, None, access, team.user_of(request))

    def remove_report(source: str, request: gr.Request = None) -> dict[str, Any]:
        """Remove an uploaded document (its source, ``uploads/NAME``): ``{"removed": source}``, or ``{"error": ...}``."""
        return team.remove_report_json(assistant, access, source, team.user_of(request))

    def audit_log(request: gr.Request = None) -> dict[str, Any]:
        """The audit log's last entries (admins only): ``{"entries": [...]}``, or ``{"error": ...}``."""
        return team.audit_json(assistant, access, team.user_of(request))

    def on_upload(file: str | None, request: gr.Request,
                  progress: gr.Progress = gr.Progress()) -> tuple[str, str, Any, Any, Any, None]:
        return upload(assistant, file, progress, access, team.user_of(request))

    def on_remove(source: str | None, request: gr.Request) -> tuple[str, Any, Any, Any, Any]:
        return remove(assistant, source, access, team.user_of(request))

    def on_audit(request: gr.Request) -> str:
        return team.audit_html(team.audit_json(assistant, access, team.user_of(request)))

    def on_load(request: gr.Request) -> tuple[Any, Any, Any, str]:
        return team.shown_to(access, team.user_of(request))

    def on_view(source: str | None) -> str:
        return view(assistant, source)

    def on_page(answer: Answer | None, request: str, http: gr.Request) -> str:
        try:
            access.check(team.user_of(http), "ask")
        except NotAllowed as error:
            return page_view.notice_html(str(error))
        return page_view.page_panel(assistant, answer, request)

    def on_answer_page(answer: Answer | None, http: gr.Request) -> str:
        return on_page(answer, page_view.page_request(1), http)

    # Until the page has loaded for its user (on_load), it shows what a request without a user may do.

    choices = document_choices(assistant)
    with gr.Blocks(title="报告问答 · 原文引用", analytics_enabled=False) as app:
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                gr.HTML(
                    "<h1>报告问答</h1><p>只引用报告原文作答：每个回答都是逐字摘录的段落，附出处，答句高亮。</p>",
                    elem_id="app-title",
                )
                signed_in = gr.HTML("", elem_id="signed-in")
                chatbot = gr.Chatbot(
                    elem_id="chat",
                    label="对话",
                    height=300,
                    latex_delimiters=[],
                    sanitize_html=True,
                    feedback_options=None,
                    buttons=[],
                    placeholder="请就报告内容提问，例如：凤岗办事处有多少名员工？",
                )
                with gr.Row():
                    question = gr.Textbox(
                        elem_id="question",
                        show_label=False,
                        placeholder="输入问题，按回车发送",
                        lines=1,
                        max_lines=4,
                        scale=5,
                    )
                    send = gr.Button("发送", variant="primary", elem_id="send", scale=1, min_width=80)
                scope = gr.Dropdown(
                    choices=choices,
                    value=[],
                    multiselect=True,
                    label="查找范围（不选 = 全部文档）",
                    elem_id="scope",
                )
                with gr.Row(elem_id="examples"):
                    examples = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES]
                evidence = gr.HTML(render.placeholder_html(), elem_id="evidence", js_on_load=None)
            with gr.Column(scale=2, min_width=320, elem_id="report-col"):
                with gr.Accordion("文档库与上传", open=False, elem_id="library-box"):
                    library = gr.HTML(render.library_html(assistant.summaries()), elem_id="library-list")
                    upload_file = gr.File(
                        label=f"加入报告（{' '.join(UPLOAD_TYPES)}，不超过 {size_text(assistant.limits.file_bytes)}）",
                        file_types=list(UPLOAD_TYPES),
                        file_count="single",
                        type="filepath",
                        elem_id="upload",
                        visible=access.allows(None, "add"),
                    )
                    upload_status = gr.HTML("", elem_id="upload-status")
                    with gr.Group(visible=access.allows(None, "remove"), elem_id="remove-box") as remove_box:
                        removable = gr.Dropdown(choices=assistant.uploaded(), value=None,
                                                label="删除上传的文档（报告文件夹里的文档不能在此删除）",
                                                elem_id="remove-source")
                        remove_button = gr.Button("删除", variant="stop", size="sm", elem_id="remove")
                        remove_status = gr.HTML("", elem_id="remove-status")
                with gr.Accordion("审计日志", open=False, visible=access.allows(None, "audit"),
                                  elem_id="audit-box") as audit_box:
                    audit = gr.HTML("", elem_id="audit")
                    audit_button = gr.Button("刷新", size="sm", elem_id="audit-refresh")
                viewer = gr.Dropdown(choices=choices, value=choices[0][1], label="查看全文", elem_id="viewer")
                mode = gr.Radio(["全文", "原文页面"], value="全文", show_label=False, elem_id="panel-mode")
                panel = gr.HTML(render.report_panel(assistant.library.documents[:1]), elem_id="report", js_on_load=None)
                pages = gr.HTML(page_view.placeholder_html(), elem_id="pages", js_on_load=None)
                page_request = gr.Textbox(show_label=False, container=False, elem_id="page-request")
                answer_state = gr.State(None)
            api_file = gr.File(visible=False, type="filepath")
            api_result = gr.JSON(visible=False)
            api_button = gr.Button(visible=False)

        outputs = [chatbot, evidence, panel, question, answer_state]
        scroll = "() => { window.reportQa && window.reportQa.showSelected(); }"
        show_mark = "() => { window.reportQa && window.reportQa.showMark(); }"
        for trigger, source in [(question.submit, question), (send.click, question)] + [
            (button.click, button) for button in examples
        ]:
            trigger(
                chat,
                [source, chatbot, scope],
                outputs,
                api_visibility="private",
                concurrency_id=CONCURRENCY_ID,
                concurrency_limit=workers,
            ).then(None, None, None, js=scroll).then(
                on_answer_page, [answer_state], [pages], api_visibility="private"
            ).then(None, None, None, js=show_mark)
        page_request.change(on_page, [answer_state, page_request], [pages], api_visibility="private").then(
            None, None, None, js=show_mark
        )
        mode.change(None, [mode], None, js="(mode) => { window.reportQa && window.reportQa.showMode(mode); }")
        upload_file.upload(
            on_upload, [upload_file], [upload_status, library, scope, viewer, removable, upload_file],
            api_visibility="private", concurrency_id=UPLOAD_CONCURRENCY_ID, concurrency_limit=1,
        ).then(on_view, [viewer], [panel], api_visibility="private")
        remove_button.click(
            on_remove, [removable], [remove_status, library, scope, viewer, removable], api_visibility="private",
            concurrency_id=UPLOAD_CONCURRENCY_ID, concurrency_limit=1,
        ).then(on_view, [viewer], [panel], api_visibility="private")
        audit_box.expand(on_audit, None, [audit], api_visibility="private")
        audit_button.click(on_audit, None, [audit], api_visibility="private")
        viewer.input(on_view, [viewer], [panel], api_visibility="private")
        app.load(on_load, None, [upload_file, remove_box, audit_box, signed_in], api_visibility="private")
        api_button.click(add_report, [api_file], [api_result], api_name="add_report",
                         concurrency_id=UPLOAD_CONCURRENCY_ID, concurrency_limit=1)
        gr.api(ask, api_name="ask", concurrency_id=CONCURRENCY_ID, concurrency_limit=workers)
        gr.api(remove_report, api_name="remove_report", concurrency_id=UPLOAD_CONCURRENCY_ID, concurrency_limit=1)
        gr.api(audit_log, api_name="audit_log")
    return app


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, access: Access = Access(),
           max_file_size: int = MAX_UPLOAD_BYTES, **options: Any) -> Any:
    """Start ``app`` with the page CSS and script, asking for sign-in when ``access`` has users
    and refusing files over ``max_file_size`` bytes; ``options`` go to ``Blocks.launch``."""
    script = (ASSETS / "app.js").read_text(encoding="utf-8")
    return app.launch(
        server_name=host,
        max_file_size=max_file_size,
        server_port=port,
        auth=team.sign_in(access) if access.users is not None else None,
        auth_message="请登录：报告问答只对本团队开放。",
        css=(ASSETS / "app.css").read_text(encoding="utf-8"),
        head=f"<script>{script}</script>",
        footer_links=["api"],
        **options,
    )


def serve(assistant: Assistant, access: Access = Access(), host: str = "127.0.0.1", port: int = 7860,
          workers: int = WORKERS) -> None:
    """Build the app for ``assistant`` and serve it until interrupted, to whom ``access`` allows,
    answering up to ``workers`` questions at once."""
    launch(build_app(assistant, access, workers), host, port, access, assistant.limits.file_bytes)
