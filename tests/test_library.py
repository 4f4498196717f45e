"""A library of reports: every format in one folder, citations naming their document, questions
limited to documents, parallel facts, incremental indexing and uploads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa import Assistant, ReportError
from qa.assistant import UnknownDocument
from qa.evaluate import evaluate, read_gold

from conftest import (
    DEV_GOLD, LIBRARY_DATA, LIBRARY_GOLD, ROOT, assert_contract, home_sharing_the_model, library_texts, write_docx,
)

SEED_SOURCE = "000_909c30aa43da0e97.txt"
LIBRARY_SOURCES = [SEED_SOURCE, "report2.txt", "report3_gb18030.txt", "report4.md", "report5.docx"]


def cli(*args: str, home: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **({"REPORT_QA_HOME": str(home)} if home else {})}
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)


def test_every_file_is_a_document_named_by_its_source(library_assistant) -> None:
    library = library_assistant.library
    assert list(library.sources) == LIBRARY_SOURCES
    assert [d.format for d in library.documents] == ["txt", "txt", "txt", "md", "docx"]
    assert library.unreadable == ()
    titles = [d.title for d in library.documents]
    assert titles[0] == "全国质检系统创先争优专题报道（一）" and titles[2] == "全国质检系统创先争优专题报道（三）"
    assert len(set(titles)) == len(titles)
    for document in library.documents:
        assert len(document.sections) >= 3
        for paragraph in document.paragraphs:
            assert document.text[paragraph.start:paragraph.end] == paragraph.text


def test_citations_name_the_document_and_quote_it(library_assistant) -> None:
    answer = library_assistant.ask("秦皇岛局党委下设多少个党支部？").to_dict()
    assert_contract(answer, library_texts(library_assistant))
    top = answer["passages"][0]["citation"]
    assert top["source"] == "report5.docx"
    assert top["document"] == "河北秦皇岛检验检疫局党建工作简报（2012年第4期）"


def test_a_question_can_be_limited_to_documents(library_assistant) -> None:
    question = "办事处有多少名员工？"
    for sources in (["report2.txt"], ["report4.md", "report5.docx"]):
        answer = library_assistant.ask(question, top_k=5, documents=sources)
        assert answer.passages and {p.citation.source for p in answer.passages} <= set(sources)
    with pytest.raises(UnknownDocument, match="nope.txt"):
        library_assistant.ask(question, documents=["nope.txt"])


def test_parallel_facts_are_answered_from_the_document_that_names_the_unit(library_assistant) -> None:
    metrics = evaluate(read_gold(LIBRARY_GOLD), lambda q: library_assistant.ask(q, top_k=5)).metrics
    assert metrics["hit@1"] >= 0.9
    assert metrics["hit@3"] >= 0.95
    assert metrics["false_abstention"] <= 0.1
    # near-misses across documents are the weak spot: 0.45 measured with the hand-fitted decision,
    # 0.36 with the reader's calibration (2026-12-04), which trades them for outside libraries
    assert metrics["abstention_recall"] >= 0.3


def test_the_dev_set_holds_on_the_library(library_assistant, tmp_path: Path) -> None:
    lines = [json.loads(line) for line in DEV_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    gold = tmp_path / "dev_with_source.jsonl"
    gold.write_text("".join(json.dumps({**row, "source": SEED_SOURCE}) + "\n" for row in lines), encoding="utf-8")
    metrics = evaluate(read_gold(gold), lambda q: library_assistant.ask(q, top_k=5)).metrics
    assert metrics["hit@1"] >= 0.94
    assert metrics["hit@3"] == 1.0
    assert metrics["false_abstention"] <= 0.04
    assert metrics["abstention_recall"] >= 0.8


def test_list_and_document_from_the_command_line(tmp_path: Path, test_library: Path, library_assistant) -> None:
    folder = tmp_path / "library"
    shutil.copytree(test_library, folder)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    (folder / "nested").mkdir()
    (folder / "nested" / "empty.txt").write_bytes(b"")
    (folder / ".hidden.txt").write_text("不是报告。", encoding="utf-8")
    (folder / "notes.xlsx").write_bytes(b"PK")
    listing = cli("list", "--report", str(folder), "--json")
    assert listing.returncode == 0, listing.stderr
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    readable = [row for row in rows if "error" not in row]
    assert [row["source"] for row in readable] == LIBRARY_SOURCES
    assert all(row["indexed"] is True for row in readable)  # the session's assistant indexed them
    assert {row["source"] for row in readable} | {"broken.pdf", "nested/empty.txt"} == {row["source"] for row in rows}
    for row in rows:
        if "error" in row:
            assert row["error"] and "\n" not in row["error"]
        else:
            assert {"title", "format", "sections", "paragraphs"} <= row.keys()
    human = cli("list", "--report", str(folder))
    assert human.returncode == 0 and len(human.stdout.splitlines()) == len(rows)

    asked = cli("ask", "有多少名员工？", "--report", str(folder), "--document", "report4.md", "--json", "--top-k", "5")
    assert asked.returncode == 0, asked.stderr
    assert {p["citation"]["source"] for p in json.loads(asked.stdout)["passages"]} == {"report4.md"}
    unknown = cli("ask", "有多少名员工？", "--report", str(folder), "--document", "missing.docx")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.count("\n") == 1 and "missing.docx" in unknown.stderr


# --- incremental indexing and uploads, each in a home of its own ------------------------------------


@pytest.fixture(scope="module")
def encoder(assistant):
    return assistant.encoder


@pytest.fixture
def home(tmp_path: Path, assistant) -> Path:
    """A fresh state folder sharing the prepared model (only vectors and documents are new)."""
    return home_sharing_the_model(tmp_path / "home")


def open_library(folder: Path, home: Path, encoder, **options) -> tuple[Assistant, list[str]]:
    messages: list[str] = []
    return Assistant(folder, home=home, encoder=encoder, log=messages.append, **options), messages


def encoded_sources(messages: list[str]) -> list[str]:
    """Sources whose passages or sentences were encoded, each once, in order."""
    return list(dict.fromkeys(m.split()[2] for m in messages if m.startswith("report-qa: encoding ")))


def test_only_added_and_changed_files_are_encoded(tmp_path: Path, home: Path, encoder, seed_report: Path) -> None:
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copyfile(seed_report, folder / seed_report.name)
    shutil.copyfile(LIBRARY_DATA / "report2.txt", folder / "report2.txt")
    _, messages = open_library(folder, home, encoder)
    assert encoded_sources(messages) == [seed_report.name, "report2.txt"]

    _, messages = open_library(folder, home, encoder)
    assert messages == []  # nothing changed: nothing encoded

    (folder / "sub").mkdir()
    shutil.copyfile(LIBRARY_DATA / "report4.md", folder / "sub" / "report4.md")
    assistant, messages = open_library(folder, home, encoder)
    assert encoded_sources(messages) == ["sub/report4.md"]
    assert "sub/report4.md" in assistant.library.sources

    text = (folder / "report2.txt").read_text(encoding="utf-8")
    (folder / "report2.txt").write_text(text.replace("现有员工56人", "现有员工57人"), encoding="utf-8")
    assistant, messages = open_library(folder, home, encoder)
    assert encoded_sources(messages) == ["report2.txt"]
    top = assistant.ask("北仑办事处现有多少名员工？").passages[0]
    assert top.citation.source == "report2.txt" and "现有员工57人" in top.text

    os.utime(folder / "report2.txt")  # touched, same bytes: hashed again, not encoded
    (folder / "sub" / "report4.md").unlink()
    assistant, messages = open_library(folder, home, encoder)
    assert messages == []
    assert assistant.library.sources == (seed_report.name, "report2.txt")
    answer = assistant.ask("友谊关办事处有多少名员工？", top_k=10)
    assert all(p.citation.source != "sub/report4.md" for p in answer.passages)


def test_upload_adds_a_document_at_once_and_survives_a_restart(tmp_path: Path, home: Path, encoder,
                                                               seed_report: Path) -> None:
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copyfile(seed_report, folder / seed_report.name)
    assistant, _ = open_library(folder, home, encoder, uploads=True)
    upload = tmp_path / "incoming" / "简报.docx"
    upload.parent.mkdir()
    write_docx(LIBRARY_DATA / "report5_docx_source.txt", upload)

    summary = assistant.add_report(upload)
    assert summary == {"source": "uploads/简报.docx", "title": "河北秦皇岛检验检疫局党建工作简报（2012年第4期）",
                       "format": "docx", "sections": summary["sections"], "paragraphs": summary["paragraphs"],
                       "indexed": True, "pages": None}
    assert summary["sections"] >= 4 and summary["paragraphs"] >= 15
    assert (home / "uploads" / "简报.docx").read_bytes() == upload.read_bytes()
    top = assistant.ask("山海关办事处有多少名员工？").passages[0]
    assert top.citation.source == "uploads/简报.docx" and "27人" in top.text

    restarted, messages = open_library(folder, home, encoder, uploads=True)
    assert restarted.library.sources == (seed_report.name, "uploads/简报.docx") and messages == []
    assert open_library(folder, home, encoder)[0].library.sources == (seed_report.name,)  # only the server's library


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("report.exe", b"MZ\x90\x00", "unsupported file type"),
        ("broken.docx", b"PK\x03\x04 not a zip", "broken.docx"),
        ("broken.pdf", b"%PDF-1.7\n garbage", "broken.pdf"),
        ("empty.txt", b"", "empty"),
        ("binary.md", bytes(range(256)) * 4, "binary.md"),
    ],
)
def test_a_bad_upload_is_refused_and_the_library_kept(tmp_path: Path, home: Path, encoder, seed_report: Path,
                                                      name: str, content: bytes, fragment: str) -> None:
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copyfile(seed_report, folder / seed_report.name)
    assistant, _ = open_library(folder, home, encoder, uploads=True)
    before = assistant.library
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReportError, match=fragment) as refused:
        assistant.add_report(path)
    assert "\n" not in str(refused.value)
    assert assistant.library is before
    assert not any((home / "uploads").glob("*")) if (home / "uploads").exists() else True
    with pytest.raises(ReportError, match="already in the library"):
        assistant.add_report(seed_report)


def test_sentence_vectors_are_encoded_with_the_document_not_per_question(tmp_path: Path, home: Path, encoder,
                                                                         seed_report: Path) -> None:
    from qa.answers.highlight import answer_units

    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copyfile(seed_report, folder / seed_report.name)
    assistant, _ = open_library(folder, home, encoder)
    vectors = assistant.answerer.unit_vectors
    assert [len(v) for v in vectors] == [len(answer_units(p.paragraph)) for p in assistant.library.passages]

    calls = []
    real = encoder.encode_passages
    encoder.encode_passages = lambda texts, **options: calls.append(texts) or real(texts, **options)
    try:
        for question in ("凤岗办事处有多少名员工？", "How many employees does the Fenggang office have?"):
            assert assistant.ask(question).answered
        reopened, messages = open_library(folder, home, encoder)
    finally:
        del encoder.encode_passages
    assert calls == [] and messages == []  # nothing encoded at question time, nor when reopened
    assert all(np.array_equal(a, b) for a, b in zip(vectors, reopened.answerer.unit_vectors))
