"""The Milvus store (a Milvus Lite file in a temporary folder, one for the whole module): the
question path from the command line and through ``/ask``, incremental and interrupted syncs,
``--document`` filters, and bad or unreachable stores."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before gradio_client is imported: it must not contact the hub

from gradio_client import Client  # noqa: E402

from conftest import (  # noqa: E402
    DEV_GOLD, LIBRARY_DATA, ROOT, assert_contract, home_sharing_the_model, library_texts, running_app,
)

QUESTIONS = [json.loads(line)["question"] for line in DEV_GOLD.read_text(encoding="utf-8").splitlines()[:8]]
QUOTED_SOURCE = 'a "quoted" \\ name.txt'


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env=env)


def same_passages(got: dict, want: dict) -> bool:
    """Same verdict, and the same passages in the same order (text, citation, highlights)."""
    def key(answer: dict) -> list:
        return [(p["text"], p["citation"], p["highlights"]) for p in answer["passages"]]

    return (got["answered"], key(got)) == (want["answered"], key(want))


@pytest.fixture(scope="module")
def lite_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"milvus:{tmp_path_factory.mktemp('milvus') / 'store.db'}"


@pytest.fixture(scope="module")
def cli_answer(lite_uri: str) -> dict:
    """``report-qa ask --json --store milvus:…`` in a process of its own: it creates the store
    (run first: a Milvus Lite file is open in one process at a time)."""
    result = run_cli("ask", QUESTIONS[0], "--json", "--store", lite_uri)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def milvus_assistant(cli_answer: dict, lite_uri: str, assistant):
    """The seed library on the Milvus Lite store, in this process (the encoder shared)."""
    from qa import Assistant

    messages: list[str] = []
    milvus = Assistant(store=lite_uri, encoder=assistant.encoder, log=messages.append)
    assert messages == []  # the command line wrote the store; nothing is written again
    return milvus


def test_cli_ask_through_milvus_lite_answers_as_the_local_store(cli_answer: dict, assistant) -> None:
    assert_contract(cli_answer, library_texts(assistant))
    local = assistant.ask(QUESTIONS[0]).to_dict()
    assert same_passages(cli_answer, local)
    assert {"bm25", "dense", "fused", "answer"} <= cli_answer["passages"][0]["signals"].keys()


def test_the_store_answers_the_dev_questions_as_the_local_store(milvus_assistant, assistant) -> None:
    for question in QUESTIONS:
        assert same_passages(milvus_assistant.ask(question).to_dict(), assistant.ask(question).to_dict()), question


@pytest.fixture(scope="module")
def url(milvus_assistant) -> Iterator[str]:
    with running_app(milvus_assistant) as url:
        yield url


def test_ask_api_through_a_gradio_server_on_the_milvus_store(url: str, milvus_assistant, assistant) -> None:
    api = Client(url, analytics_enabled=False, verbose=False, download_files=False)
    try:
        for question in QUESTIONS[:3]:
            reply = api.predict(question, api_name="/ask")
            answer = json.loads(reply) if isinstance(reply, str) else reply
            assert_contract(answer, library_texts(milvus_assistant))
            assert same_passages(answer, assistant.ask(question).to_dict()), question
        source = milvus_assistant.library.sources[0]
        reply = api.predict(QUESTIONS[0], [source], api_name="/ask")
        answer = json.loads(reply) if isinstance(reply, str) else reply
        assert answer["passages"] and all(p["citation"]["source"] == source for p in answer["passages"])
    finally:
        api.close()


# --- sync: a small library of its own, in a home of its own ------------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh state folder sharing the prepared model."""
    return home_sharing_the_model(tmp_path / "home")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copyfile(LIBRARY_DATA / "report2.txt", folder / "report2.txt")
    shutil.copyfile(LIBRARY_DATA / "report4.md", folder / QUOTED_SOURCE)
    return folder


def named(messages: list[str], verb: str) -> list[str]:
    """The sources of the ``report-qa: <verb> <source> …`` notices (sources here hold no " to ")."""
    prefix = f"report-qa: {verb} "
    return [m[len(prefix):].rsplit(" to " if verb == "writing" else " from ", 1)[0] for m in messages if m.startswith(prefix)]


class Synced:
    """The Milvus store of a library folder: sync it, see what was written, read its rows back."""

    def __init__(self, uri: str, folder: Path, home: Path, encoder) -> None:
        from embeddings.stores import open_store

        self.store = open_store(uri, home)
        self.folder, self.home, self.encoder = folder, home, encoder

    def library(self):
        from qa.documents.library import read_library
        from qa.documents.stored import stored_library

        return stored_library([self.folder], read_library(self.folder, self.home))

    def sync(self) -> tuple[list[str], list[str]]:
        """Sync the folder's library; (sources written, sources removed)."""
        messages: list[str] = []
        self.store.sync(self.library(), self.encoder, progress=False, log=messages.append)
        return named(messages, "writing"), named(messages, "removing")

    def check(self) -> None:
        """Exactly the library's passages are stored, once each, and every marker is complete."""
        from embeddings.stores.milvus_schema import collection_names

        library = self.library()
        names = collection_names(library.roots, self.encoder.model_id, library.analyzer)
        client = self.store.client
        rows = client.query(names.passages, filter="", output_fields=["id", "source", "position"], limit=10_000)
        ids = Counter(row["id"] for row in rows)
        assert max(ids.values()) == 1, "duplicate rows"
        stored = Counter(row["source"] for row in rows)
        assert stored == {d.source: len(d.passages) for d in library.documents}, "missing or orphan rows"
        markers = client.query(names.markers, filter="", output_fields=["source", "key"], limit=10_000)
        assert {m["source"]: m["key"] for m in markers} == {
            d.source: d.key(self.encoder.model_id) for d in library.documents
        }


def test_sync_writes_only_added_changed_and_removed_documents(lite_uri, milvus_assistant, folder, home) -> None:
    synced = Synced(lite_uri, folder, home, milvus_assistant.encoder)
    assert sorted(synced.sync()[0]) == sorted(["report2.txt", QUOTED_SOURCE])
    synced.check()
    assert synced.sync() == ([], [])

    shutil.copyfile(LIBRARY_DATA / "report3_gb18030.txt", folder / "report3.txt")
    assert synced.sync() == (["report3.txt"], [])
    text = (folder / "report2.txt").read_text(encoding="utf-8")
    (folder / "report2.txt").write_text(text.replace("现有员工56人", "现有员工57人"), encoding="utf-8")
    assert synced.sync() == (["report2.txt"], [])
    (folder / "report3.txt").unlink()
    assert synced.sync() == ([], ["report3.txt"])
    synced.check()


def test_a_sync_cut_off_midway_is_completed_by_the_next(lite_uri, milvus_assistant, folder, home, monkeypatch) -> None:
    from embeddings.stores import milvus

    synced = Synced(lite_uri, folder, home, milvus_assistant.encoder)
    monkeypatch.setattr(milvus, "INSERT_BATCH", 2)
    insert = synced.store.client.insert
    calls = []

    def cut_off(collection, rows):
        calls.append(len(rows))
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process is stopped between two batches of rows
        return insert(collection, rows)

    monkeypatch.setattr(synced.store.client, "insert", cut_off)
    with pytest.raises(KeyboardInterrupt):
        synced.sync()
    monkeypatch.setattr(synced.store.client, "insert", insert)
    assert sorted(synced.sync()[0]) == sorted(["report2.txt", QUOTED_SOURCE])  # the one cut off from scratch
    synced.check()
    assert synced.sync() == ([], [])


def test_document_filter_quotes_sources(lite_uri, milvus_assistant, folder, home) -> None:
    from qa import Assistant

    library = Assistant(folder, home=home, encoder=milvus_assistant.encoder, store=lite_uri, log=lambda m: None)
    answer = library.ask("友谊关办事处有多少名员工？", documents=[QUOTED_SOURCE])
    assert answer.passages and all(p.citation.source == QUOTED_SOURCE for p in answer.passages)
    answer = library.ask("友谊关办事处有多少名员工？", documents=["report2.txt"])
    assert answer.passages and all(p.citation.source == "report2.txt" for p in answer.passages)


def test_an_upload_is_written_alone_and_searchable_at_once(lite_uri, milvus_assistant, folder, home) -> None:
    from qa import Assistant

    messages: list[str] = []
    library = Assistant(folder, home=home, encoder=milvus_assistant.encoder, store=lite_uri, uploads=True,
                        log=messages.append)
    messages.clear()
    library.add_report(LIBRARY_DATA / "report3_gb18030.txt", "report3.txt")
    assert named(messages, "writing") == ["uploads/report3.txt"]
    answer = library.ask("友谊关办事处有多少名员工？", documents=["uploads/report3.txt"])
    assert answer.passages and answer.passages[0].citation.source == "uploads/report3.txt"


# --- stores that cannot be used ----------------------------------------------------------------


def one_error_line(stderr: str, message: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("report-qa: error: ") and message in lines[0], stderr


def test_an_unreachable_server_is_one_line_exit_2_fast_nothing_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "REPORT_QA_HOME": str(home), "REPORT_QA_STORE": "http://127.0.0.1:1"}
    started = time.monotonic()
    result = run_cli("ask", QUESTIONS[0], "--json", env=env, timeout=60)
    assert time.monotonic() - started < 15
    assert result.returncode == 2 and result.stdout == ""
    one_error_line(result.stderr, "cannot reach the Milvus store at http://127.0.0.1:1")
    assert not any(home.rglob("*"))


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("bogus", "bad store URI"),
        ("milvus:store.sqlite", "a Milvus Lite store is a file ending in .db"),
        ("milvus:/no/such/folder/x.db", "no folder /no/such/folder"),
        ("http://localhost:port", "the port is not a number"),
        ("ftp://localhost:19530", "bad store URI"),
    ],
)
def test_a_bad_store_uri_is_one_line_exit_2_nothing_written(tmp_path: Path, monkeypatch, capsys, uri: str,
                                                            message: str) -> None:
    from qa.cli import main

    home = tmp_path / "home"
    monkeypatch.setenv("REPORT_QA_HOME", str(home))
    assert main(["list", "--store", uri]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    one_error_line(captured.err, message)
    assert not any(home.rglob("*"))
