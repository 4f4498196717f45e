"""Shared fixtures: the seed report, the dev questions, one Assistant per test session, the seed
as a PDF (printed by Chromium) and as a scan of it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEV_GOLD = SHARED / "eval" / "dev.jsonl"
TEST_DATA = ROOT / "tests" / "data"
LIBRARY_DATA = TEST_DATA / "library"
LIBRARY_GOLD = TEST_DATA / "library_questions.jsonl"
DOCX_SOURCE = "report5_docx_source.txt"
SCAN_DPI = 200  # the scanned seed's resolution

CONTRACT_KEYS = {"question", "answered", "passages"}
PASSAGE_KEYS = {"rank", "score", "text", "citation", "highlights"}
CITATION_KEYS = {"document", "source", "section", "subsection", "paragraph", "start", "end", "label"}

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def seed_report() -> Path:
    return next((ROOT / "seeds").glob("*.txt"))


@pytest.fixture(scope="session")
def assistant():
    """The default Assistant (hybrid retrieval) over the seed report, loaded once."""
    from qa import Assistant

    return Assistant()


def library_texts(assistant) -> dict[str, str]:
    """Each document's text by source: what citations' offsets point into."""
    return {document.source: document.text for document in assistant.library.documents}


def assert_contract(answer: dict, document_texts: dict[str, str]) -> None:
    """The contract JSON object: keys, verbatim passages at their offsets in their document, highlights, order."""
    assert CONTRACT_KEYS <= answer.keys()
    assert isinstance(answer["question"], str) and answer["question"].strip()
    assert isinstance(answer["answered"], bool)
    assert isinstance(answer["passages"], list)
    for rank, passage in enumerate(answer["passages"], start=1):
        assert PASSAGE_KEYS <= passage.keys()
        assert passage["rank"] == rank
        assert isinstance(passage["score"], (int, float))
        citation = passage["citation"]
        assert CITATION_KEYS <= citation.keys()
        assert document_texts[citation["source"]][citation["start"]:citation["end"]] == passage["text"]
        assert len(passage["highlights"]) <= 2
        for highlight in passage["highlights"]:
            assert passage["text"][highlight["start"]:highlight["end"]] == highlight["text"]
    scores = [p["score"] for p in answer["passages"]]
    assert scores == sorted(scores, reverse=True)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Test processes share 2 cores; oversubscribed, torch's OpenMP threads run many times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def write_docx(source: Path, target: Path) -> None:
    """A real .docx made with python-docx from a plain-text draft: the first line as the Title,
    ``## `` lines as Heading 2, ``### `` lines as Heading 3, ``| a | b`` lines as table rows,
    every other non-blank line as a body paragraph."""
    import docx

    document = docx.Document()
    lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    document.add_heading(lines[0], level=0)
    rows: list[list[str]] = []
    for line in [*lines[1:], ""]:
        if line.startswith("| "):
            rows.append([cell.strip() for cell in line[2:].split(" | ")])
            continue
        if rows:
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
            rows = []
        if line.startswith("### "):
            document.add_heading(line[4:], level=3)
        elif line.startswith("## "):
            document.add_heading(line[3:], level=2)
        elif line:
            document.add_paragraph(line)
    document.save(str(target))


def build_test_library(folder: Path, seed: Path) -> Path:
    """The test library: the seed report plus the distractor reports of ``tests/data/library``
    (UTF-8 text, GB18030 text, Markdown, and a .docx written from its draft)."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seed, folder / seed.name)
    for path in LIBRARY_DATA.iterdir():
        if path.name == DOCX_SOURCE:
            write_docx(path, folder / "report5.docx")
        else:
            shutil.copyfile(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def test_library(tmp_path_factory: pytest.TempPathFactory, seed_report: Path) -> Path:
    return build_test_library(tmp_path_factory.mktemp("library"), seed_report)


@pytest.fixture(scope="session")
def library_assistant(test_library: Path):
    """The default Assistant over the test library, loaded once."""
    from qa import Assistant

    return Assistant(test_library)


def home_sharing_the_model(home: Path) -> Path:
    """A fresh ``REPORT_QA_HOME`` whose ``models/`` points at the prepared model (nothing is prepared again)."""
    from embeddings import resolve_model

    home.mkdir(parents=True)
    (home / "models").symlink_to(Path(resolve_model(None)).parent, target_is_directory=True)
    return home


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_app(assistant, access=None) -> Iterator[str]:
    """The URL of a real Gradio server for ``assistant`` on a free loopback port, closed afterwards;
    ``access`` (a :class:`qa.Access`, default: no sign-in) decides who may do what."""
    from qa import Access
    from ui.app import build_app, launch

    access = access or Access()
    app = build_app(assistant, access)
    port = free_port()
    launch(app, "127.0.0.1", port, access, assistant.limits.file_bytes, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        close_app(app)


def close_app(app) -> None:
    """Close a launched Gradio app. Its ``close()`` sets the app's asyncio stop event from this
    thread while the open heartbeat streams wait on it in the server's loop, and the two can
    collide ("RuntimeError: deque mutated during iteration"); the event is set in that loop first."""

    async def stop() -> None:
        app.app.stop_event.set()

    asyncio.run_coroutine_threadsafe(stop(), app.server.servers[0].get_loop()).result(timeout=10)
    app.close()


@pytest.fixture(scope="session")
def shared_folder(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder of this test run shared by all pytest-xdist workers (the session's own without xdist)."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if worker_id != "master" else root


def made_once(folder: Path, make: Callable[[Path], None]) -> Path:
    """``folder``, filled by ``make(folder)`` the first time any worker of this run asks for it
    (the others wait for it under a lock)."""
    from filelock import FileLock

    with FileLock(f"{folder}.lock"):
        if not (folder / ".ready").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            make(folder)
            (folder / ".ready").touch()
    return folder


@pytest.fixture(scope="session")
def seed_pdf(shared_folder: Path, seed_report: Path) -> Path:
    """The seed report printed to PDF by Chromium (its default header and footer on), once per run."""
    from test_format_parity import seed_html
    from test_readers import CHROMIUM, chromium_pdf

    from qa.documents.ingest import read_report

    if CHROMIUM is None:
        pytest.skip("chromium is not on PATH: the seed PDF is printed with it")

    def make(folder: Path) -> None:
        printed = chromium_pdf(seed_html(read_report(seed_report)), folder.parent / "seed-print")
        shutil.move(printed, folder / "seed.pdf")

    return made_once(shared_folder / "seed-pdf", make) / "seed.pdf"


def scan_pdf(source: Path, target: Path, dpi: int = SCAN_DPI) -> Path:
    """``source`` rasterized at ``dpi`` into a PDF of grey page images without a text layer: a scan."""
    import pypdfium2

    from qa.documents.pages import render_pages

    pages = range(len(pypdfium2.PdfDocument(source)))
    images = [image.convert("L") for image in render_pages(source, pages, dpi / 72)]
    images[0].save(target, save_all=True, append_images=images[1:], resolution=dpi)
    return target


@pytest.fixture(scope="session")
def pdf_home(shared_folder: Path) -> Path:
    """A state folder shared by this run's workers, where the seed PDFs are read (and OCR'd) once."""
    return made_once(shared_folder / "pdf-home", lambda folder: home_sharing_the_model(folder / "home")) / "home"


@pytest.fixture(scope="session")
def scanned_seed_pdf(shared_folder: Path, seed_pdf: Path, pdf_home: Path) -> Path:
    """The seed PDF as a scan (``SCAN_DPI``), already read by OCR into ``pdf_home``'s document
    cache, once per run: every test reading it from ``pdf_home`` finds it read."""
    from qa.documents.cache import DocumentCache

    def make(folder: Path) -> None:
        scan = scan_pdf(seed_pdf, folder / "seed-scan.pdf")
        cache = DocumentCache(pdf_home)
        cache.read(scan, scan.name)
        cache.flush()

    return made_once(shared_folder / "seed-scan", make) / "seed-scan.pdf"
