"""Hostile and broken input, through the command line and the Python API.

Whatever comes in, report-qa answers or refuses with one clear line: no traceback, exit code 2
for what the user got wrong, and every line of ``--json`` output is valid JSON (strict: no NaN)
that follows the contract. Most CLI runs use ``--retriever bm25`` (no model to load) and many
inputs share one process through ``--file``; a few go through the default hybrid retriever.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, assert_contract, home_sharing_the_model, library_texts

SEED_QUESTION = "凤岗办事处有多少名员工？"
SEED_EVIDENCE = "现有员工88人"
ONE_MB = 1024 * 1024

# Questions, one per line of a --file batch (none holds a line break or a character that
# str.splitlines() treats as one; those are in the byte-level batch below).
BATCH_QUESTIONS = [
    "",  # empty line
    "   \t  ",  # whitespace
    "\u3000\u3000",  # ideographic spaces only
    "\x00",  # NUL
    "凤岗办\x00事处有多少名员工？",  # NUL inside
    "\x01\x02\x03\x07\x08\x1b[31m凤岗\x1b[0m",  # control characters, an ANSI escape
    "\u200f凤岗办事处有多少名员工？\u200e",  # RTL / LTR marks
    "\u202e？工员名少多有处事办岗凤",  # right-to-left override
    "\ufeff凤岗办事处有多少名员工？",  # BOM inside the line
    "\u200b\u200c\u200d\u2060",  # zero-width characters only
    "😀🎉🏳️‍🌈👨‍👩‍👧‍👦",  # emoji only, with ZWJ sequences
    "凤岗办😀有多少名员工🎉？",  # emoji mixed in
    "'; DROP TABLE passages; --",  # SQL
    "凤岗' OR '1'='1",  # SQL in Chinese
    "<script>alert('x')</script>",  # HTML/JS
    "<img src=x onerror=alert(1)>凤岗办",  # HTML attribute injection
    "javascript:alert(document.cookie)",  # JS URL
    "{{7*7}} ${7*7} %s%n%x",  # template and format strings
    "../../../../etc/passwd",  # path
    "？！。，、；：“”‘’（）【】《》",  # only punctuation (full-width)
    "?!.,;:'\"()[]{}<>/\\|",  # only punctuation (ASCII)
    "1234567890",  # only digits
    "０１２３４５６７８９",  # full-width digits
    "88",  # a number that occurs in the report
    "凤岗 office has how many 员工 employees?",  # mixed scripts
    "مرحبا 凤岗 Привет שלום",  # Arabic, Cyrillic, Hebrew, Chinese
    "ＦＵＮＧＧＡＮＧ　ｏｆｆｉｃｅ　凤岗办事处有多少名员工？",  # full-width Latin
    "鳳崗辦事處有多少名員工？",  # traditional characters
    "fènggǎng bànshìchù yǒu duōshǎo yuángōng",  # pinyin with tone marks
    "e\u0301e\u0301\u0301\u0301\u0301",  # combining marks (Zalgo-ish)
    "\U0001d4d5\U0001d4de\U0001d4f7",  # mathematical alphanumerics (NFKC folds them)
    "\ue000\uf8ff凤岗",  # private use characters
    "null",
    "NaN",
    "凤" * 2000,  # exactly the limit
    "员工" * 1001,  # just over the limit
    "x" * ONE_MB,  # a 1 MB question
]

# Raw bytes of a second batch: invalid UTF-8, surrogateescape bytes, a UTF-16 line, odd breaks.
BATCH_BYTES = b"\n".join([
    b"\xff\xfe\xfd",  # invalid UTF-8 only
    "凤岗办事处有多少名员工\udcff？".encode("utf-8", "surrogateescape"),  # a lone byte 0xFF inside
    b"\xed\xa0\x80",  # an encoded lone surrogate (invalid UTF-8)
    b"\xc3\x28\xa0\xa1",  # broken sequences
    "凤岗办事处有多少名员工？".encode("utf-16"),  # UTF-16 with BOM (NUL bytes)
    "凤岗办事处有多少名员工？".encode("gb18030"),  # GB18030 bytes read as UTF-8
    "first\x1csecond\x1dthird\x85fourth\u2028fifth".encode("utf-8"),  # splitlines() breaks
    b"\r\r\n\r",  # carriage returns
    b"",  # trailing empty line
])


def run_cli(*args: str | bytes, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m qa.cli ARGS`` with bytes output (decoded by the checks, strictly)."""
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args], capture_output=True, timeout=timeout, cwd=ROOT,
        env=env or {**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def no_traceback(result: subprocess.CompletedProcess) -> str:
    stderr = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    return stderr


def assert_refused(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit code 2 and exactly one line on stderr, ``report-qa: error: ...``; nothing on stdout."""
    stderr = no_traceback(result)
    assert result.returncode == 2, (result.returncode, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("report-qa: error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], stderr
    assert result.stdout == b""
    return lines[0]


def _reject_constant(name: str) -> None:
    raise ValueError(f"not valid JSON: {name}")


def json_lines(result: subprocess.CompletedProcess) -> list[dict]:
    """Every stdout line parsed as strict JSON (UTF-8, no NaN/Infinity)."""
    text = result.stdout.decode("utf-8")  # strict: a lone surrogate would fail here
    return [json.loads(line, parse_constant=_reject_constant) for line in text.splitlines()]


def assert_answer_or_error(answer: dict, document_texts: dict[str, str]) -> None:
    """A batch line: the contract object, or an error object with no passages."""
    if "error" in answer:
        assert answer["answered"] is False and answer["passages"] == []
        assert isinstance(answer["error"], str) and "\n" not in answer["error"] and answer["error"]
    else:
        assert_contract(answer, document_texts)


@pytest.fixture(scope="module")
def document_texts(seed_report: Path) -> dict[str, str]:
    from qa import read_report

    return {seed_report.name: read_report(seed_report).text}


@pytest.fixture(scope="module")
def model_dir() -> Path:
    """The prepared default model (``make test`` runs ``make index`` first, so it exists)."""
    from embeddings import resolve_model

    return Path(resolve_model(None))


@pytest.fixture
def isolated_env(tmp_path: Path, model_dir: Path) -> dict[str, str]:
    """A fresh REPORT_QA_HOME whose models/ points at the prepared model (no re-preparing)."""
    home = home_sharing_the_model(tmp_path / "home")
    return {**os.environ, "REPORT_QA_HOME": str(home), "HF_HUB_OFFLINE": "1"}


# --- questions through the command line ----------------------------------------------------


def test_batch_of_hostile_questions_gives_one_valid_json_line_each(tmp_path: Path, document_texts: dict[str, str]) -> None:
    batch = tmp_path / "questions.txt"
    batch.write_text("\n".join(BATCH_QUESTIONS) + "\n", encoding="utf-8")
    result = run_cli("ask", "--json", "--file", str(batch), "--retriever", "bm25")
    no_traceback(result)
    assert result.returncode == 0
    answers = json_lines(result)
    assert len(answers) == len(BATCH_QUESTIONS)
    for question, answer in zip(BATCH_QUESTIONS, answers):
        assert_answer_or_error(answer, document_texts)
        if not question.strip() or len(question) > 2000:
            assert "error" in answer, question[:40]
    by_question = dict(zip(BATCH_QUESTIONS, answers))
    for asked in ("\u200f凤岗办事处有多少名员工？\u200e", "\ufeff凤岗办事处有多少名员工？", "凤岗办\x00事处有多少名员工？",
                  "ＦＵＮＧＧＡＮＧ　ｏｆｆｉｃｅ　凤岗办事处有多少名员工？", "鳳崗辦事處有多少名員工？"):
        answer = by_question[asked]
        assert "error" not in answer and SEED_EVIDENCE in answer["passages"][0]["text"], asked
        assert not any(ch in answer["question"] for ch in "\u200f\u200e\ufeff\x00")
    assert "too long" in by_question["x" * ONE_MB]["error"]


def test_batch_of_undecodable_bytes_gives_one_valid_json_line_each(tmp_path: Path, document_texts: dict[str, str]) -> None:
    batch = tmp_path / "bytes.txt"
    batch.write_bytes(BATCH_BYTES)
    result = run_cli("ask", "--json", "--file", str(batch), "--retriever", "bm25")
    no_traceback(result)
    assert result.returncode == 0
    answers = json_lines(result)
    assert len(answers) == len(BATCH_BYTES.decode("utf-8", "replace").splitlines())
    for answer in answers:
        assert_answer_or_error(answer, document_texts)
    with_byte = next(a for a in answers if "error" not in a and a["question"].startswith("凤岗办事处有多少名员工"))
    assert SEED_EVIDENCE in with_byte["passages"][0]["text"]


@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        ("", "empty"),
        (" \t\u3000\n", "empty"),
        ("\x01\x02\x7f\u200b", "empty"),
        ("问" * 40_000, "too long"),  # 120 KB: about the largest one argv item can hold
        (b"\xff\xfe\xfd", "empty"),  # invalid UTF-8 in argv: surrogateescape, then removed
    ],
    ids=["empty", "whitespace", "controls-only", "100k-chars", "invalid-utf8-argv"],
)
def test_unaskable_question_is_refused_in_one_line(question: str | bytes, fragment: str) -> None:
    assert_refused(run_cli("ask", question, "--retriever", "bm25", "--json"), fragment)


def test_unaskable_question_is_refused_before_loading_the_model() -> None:
    """Through the default hybrid retriever: refused without loading the encoder."""
    assert_refused(run_cli("ask", "\u200b\u200b   "), "empty")


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "human"])
def test_invalid_utf8_bytes_in_argv_are_dropped(as_json: bool, document_texts: dict[str, str]) -> None:
    question = "凤岗办事处有多少名员工".encode() + b"\xff\xc3(" + "？".encode()
    result = run_cli("ask", question, "--retriever", "bm25", *(["--json"] if as_json else []))
    no_traceback(result)
    assert result.returncode == 0
    if as_json:
        (answer,) = json_lines(result)
        assert_contract(answer, document_texts)
        assert SEED_EVIDENCE in answer["passages"][0]["text"]
    else:
        assert SEED_EVIDENCE in result.stdout.decode("utf-8")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--top-k", "0"], "--top-k"),
        (["--top-k", "-3"], "--top-k"),
        (["--file", "/nonexistent/questions.txt"], "questions.txt"),
        (["--file", "."], ""),
    ],
    ids=["top-k-0", "top-k-negative", "file-missing", "file-is-a-folder"],
)
def test_bad_options_are_refused_in_one_line(args: list[str], fragment: str) -> None:
    question = [] if "--file" in args else [SEED_QUESTION]
    assert_refused(run_cli("ask", *question, *args, "--retriever", "bm25", "--json"), fragment)


def test_unparsable_option_exits_2_without_traceback() -> None:
    result = run_cli("ask", SEED_QUESTION, "--top-k", "three", "--retriever", "bm25")
    stderr = no_traceback(result)
    assert result.returncode == 2 and "--top-k" in stderr and result.stdout == b""


def test_huge_top_k_returns_every_paragraph_once(document_texts: dict[str, str]) -> None:
    result = run_cli("ask", SEED_QUESTION, "--top-k", "1000000", "--retriever", "bm25", "--json")
    no_traceback(result)
    (answer,) = json_lines(result)
    assert_contract(answer, document_texts)
    starts = [p["citation"]["start"] for p in answer["passages"]]
    assert len(starts) == len(set(starts)) > 3


def test_hostile_questions_through_the_hybrid_retriever(tmp_path: Path, document_texts: dict[str, str]) -> None:
    questions = ["😀🎉", "<script>alert(1)</script>", "\u200f凤岗办事处有多少名员工？", "？！。", "1234567890",
                 "x" * 3000, "\x00\x01", "凤岗 office has how many 员工?"]
    batch = tmp_path / "hybrid.txt"
    batch.write_text("\n".join(questions) + "\n", encoding="utf-8")
    result = run_cli("ask", "--json", "--file", str(batch))
    no_traceback(result)
    assert result.returncode == 0
    answers = json_lines(result)
    assert len(answers) == len(questions)
    for answer in answers:
        assert_answer_or_error(answer, document_texts)
    assert SEED_EVIDENCE in answers[2]["passages"][0]["text"]
    assert "error" in answers[5] and "error" in answers[6]


# --- broken reports ------------------------------------------------------------------------


def _seed_text(seed_report: Path) -> str:
    return seed_report.read_text(encoding="utf-8")


def _five_mb_report(seed_report: Path) -> str:
    """The seed report repeated under numbered titles until it is past 5 MB (UTF-8)."""
    body, parts, size, copy = _seed_text(seed_report), [], 0, 0
    while size < 5 * ONE_MB:
        copy += 1
        part = f"第{copy}期专题报道\n\n{body}\n\n"
        parts.append(part)
        size += len(part.encode("utf-8"))
    return "".join(parts)


@pytest.mark.parametrize(
    ("name", "make", "fragment"),
    [
        ("empty.txt", lambda seed: b"", "empty"),
        ("blank.txt", lambda seed: b" \r\n\t\n\xe3\x80\x80\n", "empty"),
        ("bom-only.txt", lambda seed: b"\xef\xbb\xbf", "empty"),
        ("binary.txt", lambda seed: bytes(range(256)) * 64, "binary"),
        ("elf.txt", lambda seed: b"\x7fELF\x02\x01\x01" + b"\x00" * 64 + os.urandom(4096), "binary"),
        ("report.pdf", lambda seed: b"%PDF-1.7\n", "report.pdf"),
        ("report.rtf", lambda seed: b"{\\rtf1 report}", "unsupported"),
    ],
    ids=["empty", "whitespace", "bom-only", "binary", "elf", "corrupt-pdf", "rtf"],
)
def test_unreadable_report_is_refused_in_one_line(tmp_path: Path, seed_report: Path, name: str, make, fragment: str) -> None:
    report = tmp_path / name
    report.write_bytes(make(seed_report))
    assert_refused(run_cli("ask", SEED_QUESTION, "--report", str(report), "--retriever", "bm25", "--json"), fragment)


def test_missing_report_and_empty_folder_are_refused(tmp_path: Path) -> None:
    assert_refused(run_cli("ask", SEED_QUESTION, "--report", str(tmp_path / "nope.txt"), "--retriever", "bm25"), "nope.txt")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "notes.docx").write_bytes(b"PK\x03\x04")
    assert_refused(run_cli("ask", SEED_QUESTION, "--report", str(tmp_path / "folder"), "--retriever", "bm25"), "folder")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("headings-only.txt", "报告标题\n第一部分\n第二部分\n"),
        ("one-line.txt", "hello.\n"),
        ("markdown-headings.md", "# 标题\n\n## 小节\n"),
    ],
    ids=["headings-only", "one-short-line", "markdown-headings-only"],
)
def test_report_without_body_paragraphs_is_refused_in_one_line(tmp_path: Path, name: str, content: str) -> None:
    report = tmp_path / name
    report.write_text(content, encoding="utf-8")
    assert_refused(run_cli("ask", SEED_QUESTION, "--report", str(report), "--retriever", "bm25", "--json"))


def _answers_seed_question(result: subprocess.CompletedProcess, report: Path) -> None:
    from qa import read_report

    no_traceback(result)
    assert result.returncode == 0
    (answer,) = json_lines(result)
    assert_contract(answer, {report.name: read_report(report).text})
    assert answer["answered"] is True
    assert SEED_EVIDENCE in answer["passages"][0]["text"]


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("gb18030.txt", lambda text: text.encode("gb18030")),
        ("utf8-bom.txt", lambda text: b"\xef\xbb\xbf" + text.encode("utf-8")),
        ("crlf.txt", lambda text: text.replace("\n", "\r\n").encode("utf-8")),
        ("cr-only.txt", lambda text: text.replace("\n", "\r").encode("utf-8")),
    ],
    ids=["gb18030", "utf8-bom", "crlf", "cr"],
)
def test_report_encodings_and_line_breaks_are_read(tmp_path: Path, seed_report: Path, name: str, encode) -> None:
    report = tmp_path / name
    report.write_bytes(encode(_seed_text(seed_report)))
    _answers_seed_question(run_cli("ask", SEED_QUESTION, "--report", str(report), "--retriever", "bm25", "--json"), report)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("noise.txt", lambda text: bytes((i * 7919 + 13) % 251 + 1 for i in range(20000))),
        ("latin1.txt", lambda text: "Café report. Naïve façade, 100 €.\n\nSecond paragraph here.".encode("latin-1", "replace")),
        ("utf16.txt", lambda text: text.encode("utf-16")),
        ("mixed.txt", lambda text: text[:3000].encode("utf-8") + text[3000:6000].encode("gb18030")),
    ],
    ids=["noise", "latin1", "utf16", "half-utf8-half-gb18030"],
)
def test_odd_report_is_answered_or_refused_cleanly(tmp_path: Path, seed_report: Path, name: str, make) -> None:
    report = tmp_path / name
    report.write_bytes(make(_seed_text(seed_report)))
    result = run_cli("ask", SEED_QUESTION, "--report", str(report), "--retriever", "bm25", "--json")
    if result.returncode == 2:
        assert_refused(result)
        return
    from qa import read_report

    no_traceback(result)
    assert result.returncode == 0
    (answer,) = json_lines(result)
    assert_contract(answer, {report.name: read_report(report).text})


def test_five_megabyte_report_is_read_and_answered(tmp_path: Path, seed_report: Path) -> None:
    report = tmp_path / "big.txt"
    report.write_text(_five_mb_report(seed_report), encoding="utf-8")
    assert report.stat().st_size >= 5 * ONE_MB
    _answers_seed_question(run_cli("ask", SEED_QUESTION, "--report", str(report), "--retriever", "bm25", "--json"), report)


def test_gb18030_report_through_the_hybrid_retriever(tmp_path: Path, seed_report: Path, isolated_env: dict) -> None:
    """A report of its own builds its own index (in a fresh home) and answers."""
    report = tmp_path / "gb.txt"
    report.write_bytes(_seed_text(seed_report).encode("gb18030"))
    _answers_seed_question(run_cli("ask", SEED_QUESTION, "--report", str(report), "--json", env=isolated_env), report)


# --- the Python API ------------------------------------------------------------------------

API_QUESTIONS = [
    *BATCH_QUESTIONS[:-1],
    "line\nbreaks\r\nand\ttabs 凤岗办",
    "\u2028\u2029\x85",
    "\ud800",  # a lone high surrogate
    "凤岗办\udcff事处有多少名员工？",  # a surrogateescape byte
    "\udfff\ud800凤岗",
    "\U0010ffff\U000e0001",  # the last code point, a tag character
]


def check_api_answer(assistant, question: object, top_k: int = 3) -> None:
    """``assistant.ask`` gives a contract Answer or raises QuestionError; nothing else."""
    from qa import Answer, QuestionError

    try:
        answer = assistant.ask(question, top_k=top_k)
    except QuestionError as error:
        message = str(error)
        assert message and "\n" not in message
        return
    assert isinstance(answer, Answer)
    payload = answer.to_dict()
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")  # no lone surrogate survives into the output
    assert json.loads(text) == payload
    assert_contract(payload, library_texts(assistant))
    assert 1 <= len(payload["passages"]) <= max(top_k, 1)


@pytest.mark.parametrize("question", API_QUESTIONS, ids=range(len(API_QUESTIONS)))
def test_api_answers_or_refuses_hostile_questions(assistant, question: str) -> None:
    check_api_answer(assistant, question)


@pytest.mark.parametrize("question", [None, 42, 3.5, b"\xe5\x87\xa4", ["凤岗"], {"q": 1}], ids=repr)
def test_api_refuses_what_is_not_text(assistant, question: object) -> None:
    from qa import QuestionError

    with pytest.raises(QuestionError):
        assistant.ask(question)


@pytest.mark.parametrize("top_k", [0, -1, 1, 10_000])
def test_api_top_k_bounds(assistant, top_k: int) -> None:
    check_api_answer(assistant, SEED_QUESTION, top_k=top_k)


_REPORT_PIECES = ["凤岗办", "员工", "党员", "检验检疫", "多少", "哪一年", "？", "，", "88", "ISO9001", "山东局"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(_REPORT_PIECES), st.text(max_size=3)), max_size=12).map("".join),
))
def test_fuzzed_questions_answer_or_raise_question_error(assistant, question: str) -> None:
    check_api_answer(assistant, question)
