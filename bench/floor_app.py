"""``python -m bench.floor_app ANSWER.json PORT``: the load floor, a Gradio server that answers
every question at once with one fixed answer.

It serves ``/ask`` as ``report-qa serve`` does (``gr.api``, same signature, same number of
workers) and returns a real answer's JSON, so a load against it measures what Gradio's queue
and HTTP exchange cost on this machine when answering costs nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gradio as gr

from ui.app import WORKERS


def build(answer: dict) -> gr.Blocks:
    """A Blocks app whose ``/ask`` returns ``answer`` for any question."""

    def ask(question: str, documents: list[str] | None = None) -> dict:
        return answer

    with gr.Blocks() as app:
        gr.api(ask, api_name="ask", concurrency_limit=WORKERS)
    return app


def main(argv: list[str]) -> int:
    answer_file, port = Path(argv[0]), int(argv[1])
    build(json.loads(answer_file.read_text(encoding="utf-8"))).launch(server_name="127.0.0.1", server_port=port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
