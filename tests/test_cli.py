"""The ``report-qa`` command line as other tools drive it (contract.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DEV_GOLD, ROOT, assert_contract



def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@pytest.fixture(scope="module")
def document_texts(seed_report: Path) -> dict[str, str]:
    from qa import read_report

    return {seed_report.name: read_report(seed_report).text}


@pytest.mark.parametrize("retriever", ["bm25", "hybrid"])
def test_ask_json_follows_the_contract(retriever: str, document_texts: dict[str, str]) -> None:
    result = run("ask", "凤岗办事处有多少名员工？", "--json", "--retriever", retriever)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert_contract(answer, document_texts)
    assert answer["answered"] is True
    top = answer["passages"][0]
    assert "现有员工88人" in top["text"]
    assert top["citation"]["section"] == "广东东莞检验检疫局凤岗办党支部党员奉献在岗位"
    assert top["citation"]["paragraph"] == 1
    assert top["citation"]["document"] == "全国质检系统创先争优专题报道（一）"


def test_batch_file_answers_in_order_with_one_load(tmp_path: Path, document_texts: dict[str, str]) -> None:
    questions = ["凤岗办事处有多少名员工？", "   ", "鳳崗辦全年哪幾天停止辦理業務？", "厦门局设立了多少个党员先锋岗？"]
    batch = tmp_path / "questions.txt"
    batch.write_text("\n".join(questions) + "\n", encoding="utf-8")
    result = run("ask", "--json", "--file", str(batch), "--retriever", "bm25")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(questions)
    assert "error" in answers[1] and answers[1]["passages"] == []
    for answer in answers[:1] + answers[2:]:
        assert_contract(answer, document_texts)
    assert "除夕到初四停办业务" in answers[2]["passages"][0]["text"]
    assert "83个党员先锋岗" in answers[3]["passages"][0]["text"]


@pytest.mark.parametrize("question", ["", "   ", "\u3000\t\n", "\x01\x02\u200f"])
def test_empty_question_is_refused_with_exit_code_2(question: str) -> None:
    result = run("ask", question)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == "report-qa: error: the question is empty"


def test_huge_question_is_refused_without_traceback(tmp_path: Path) -> None:
    # 200,000 characters do not fit in one command-line argument: they come through --file
    batch = tmp_path / "huge.txt"
    batch.write_text("凤岗" * 100_000 + "\n凤岗办事处有多少名员工？\n", encoding="utf-8")
    result = run("ask", "--json", "--file", str(batch), "--retriever", "bm25", timeout=30)
    assert result.returncode == 0, result.stderr
    huge, normal = [json.loads(line) for line in result.stdout.splitlines()]
    assert "too long" in huge["error"] and huge["passages"] == []
    assert len(huge["question"]) < 1000  # echoed shortened, not 200,000 characters back
    assert normal["answered"] and "现有员工88人" in normal["passages"][0]["text"]
    assert "Traceback" not in result.stderr


def test_huge_question_is_refused_by_the_api(assistant) -> None:
    from qa import QuestionError

    with pytest.raises(QuestionError, match="too long"):
        assistant.ask("凤岗" * 100_000)


def test_human_output_shows_citation_and_marked_highlight() -> None:
    result = run("ask", "凤岗办事处有多少名员工？", "--retriever", "bm25")
    assert result.returncode == 0, result.stderr
    assert "[000_909c30aa43da0e97.txt §5 ¶1] 《全国质检系统创先争优专题报道（一）》" in result.stdout
    assert "广东东莞检验检疫局凤岗办党支部党员奉献在岗位" in result.stdout
    assert "⟦" in result.stdout and "⟧" in result.stdout


def test_eval_json_reports_every_contract_metric() -> None:
    result = run("eval", str(DEV_GOLD), "--json", "--retriever", "bm25")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    for key in ("hit@1", "hit@3", "hit@5", "mrr", "sentence@1", "abstention_recall", "false_abstention"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["hit@1"] >= 0.95


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"\x00\xff\x00\xfe" * 100, "binary")],
)
def test_bad_report_is_refused_with_exit_code_2(tmp_path: Path, content: bytes, message: str) -> None:
    report = tmp_path / "report.txt"
    report.write_bytes(content)
    result = run("ask", "问题", "--report", str(report), "--retriever", "bm25")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
