"""The Gradio chat UI: chat and evidence cards on the left, the whole report on the right.

``build_app(assistant)`` builds the Blocks; ``launch(app, host, port)`` starts it with the page's
CSS and script (gradio 6 takes them in ``launch()``); ``serve`` does both and blocks.
The app makes no outside requests and exposes ``/ask`` returning the contract JSON object.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from qa import Assistant, QuestionError  # noqa: E402
from qa.results import refusal  # noqa: E402
from ui import render  # noqa: E402

ASSETS = Path(__file__).resolve().parent / "assets"
EXAMPLES = (
    "凤岗办事处有多少名员工？",
    "凤岗办全年哪几天停止办理业务？",
    "厦门局设立了多少个党员先锋岗？",
    "山东检验检疫局的局长叫什么名字？",
)
# The Assistant is not promised to be thread-safe: the chat and the API share one queue slot.
CONCURRENCY_ID = "assistant"
CONCURRENCY_LIMIT = 1

Message = dict[str, Any]


def ask_json(assistant: Assistant, question: Any) -> dict[str, Any]:
    """The contract JSON object for one question; a bad question gives ``answered: false`` and ``error``."""
    try:
        return assistant.ask(question).to_dict()
    except QuestionError as error:
        return refusal(question, str(error))


def respond(
    assistant: Assistant, question: str | None, history: list[Message] | None
) -> tuple[list[Message], str, str, str]:
    """One chat turn: (chat history, evidence HTML, report panel HTML, cleared textbox)."""
    question = question or ""
    history = list(history or [])
    user = {"role": "user", "content": render.chat_text(render.display_question(question))}
    try:
        answer = assistant.ask(question)
    except QuestionError as error:
        message = render.question_error(error)
        reply = f"**无法提问：** {render.chat_text(message)}"
        history += [user, {"role": "assistant", "content": reply}]
        return history, render.error_html(question, message), gr.skip(), ""
    selected = answer.passages[0].paragraph_index if answer.answered and answer.passages else None
    history += [user, {"role": "assistant", "content": render.chat_reply(answer)}]
    return history, render.answer_html(answer), render.report_panel(assistant.document, selected), ""


def build_app(assistant: Assistant) -> gr.Blocks:
    """The Blocks app for ``assistant``: chat, example questions, evidence cards, report panel, ``/ask``."""

    def chat(question: str, history: list[Message]) -> tuple[list[Message], str, str, str]:
        return respond(assistant, question, history)

    def ask(question: str) -> dict[str, Any]:
        """Answer one question about the report: the report-qa JSON object (verbatim passages, citations)."""
        return ask_json(assistant, question)

    with gr.Blocks(title="报告问答 · 原文引用", analytics_enabled=False) as app:
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                gr.HTML(
                    "<h1>报告问答</h1><p>只引用报告原文作答：每个回答都是逐字摘录的段落，附出处，答句高亮。</p>",
                    elem_id="app-title",
                )
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
                with gr.Row(elem_id="examples"):
                    examples = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES]
                evidence = gr.HTML(render.placeholder_html(), elem_id="evidence", js_on_load=None)
            with gr.Column(scale=2, min_width=320, elem_id="report-col"):
                panel = gr.HTML(render.report_panel(assistant.document), elem_id="report", js_on_load=None)

        outputs = [chatbot, evidence, panel, question]
        scroll = "() => { window.reportQa && window.reportQa.showSelected(); }"
        for trigger, source in [(question.submit, question), (send.click, question)] + [
            (button.click, button) for button in examples
        ]:
            trigger(
                chat,
                [source, chatbot],
                outputs,
                api_visibility="private",
                concurrency_id=CONCURRENCY_ID,
                concurrency_limit=CONCURRENCY_LIMIT,
            ).then(None, None, None, js=scroll)
        gr.api(ask, api_name="ask", concurrency_id=CONCURRENCY_ID, concurrency_limit=CONCURRENCY_LIMIT)
    return app


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, **options: Any) -> Any:
    """Start ``app`` with the page CSS and script; ``options`` go to ``Blocks.launch``."""
    script = (ASSETS / "app.js").read_text(encoding="utf-8")
    return app.launch(
        server_name=host,
        server_port=port,
        css=(ASSETS / "app.css").read_text(encoding="utf-8"),
        head=f"<script>{script}</script>",
        footer_links=["api"],
        **options,
    )


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Build the app for ``assistant`` and serve it until interrupted."""
    launch(build_app(assistant), host, port)
