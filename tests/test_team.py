"""Serving a team, on a real Gradio server with sign-in: signed-out requests refused, each role
held to what it may do (in the endpoints themselves, not only in the page), an upload removed
and gone from answers at once, quotas, a read-only server, the audit log; and the command lines
that manage users and remove uploads."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before gradio_client is imported: it must not contact the hub

from gradio_client import Client, handle_file  # noqa: E402

from conftest import LIBRARY_DATA, ROOT, free_port, home_sharing_the_model, running_app  # noqa: E402

PASSWORDS = {"rita": "reader-secret", "ed": "editor-secret", "ada": "admin-secret"}
ROLES = {"rita": "reader", "ed": "editor", "ada": "admin"}
SEED_QUESTION = "凤岗办事处有多少名员工？"
UPLOAD_QUESTION = "北仑办事处现有多少名员工？"  # answered only by report2.txt
UPLOAD_EVIDENCE = "现有员工56人"


def signed_in(url: str, name: str) -> Client:
    return Client(url, auth=(name, PASSWORDS[name]), analytics_enabled=False, verbose=False, download_files=False)


def team_home(tmp_path: Path):
    """A fresh state folder sharing the prepared model, with a reader, an editor and an admin."""
    from qa import Users

    home = home_sharing_the_model(tmp_path / "home")
    users = Users(home)
    for name, role in ROLES.items():
        users.add(name, role, PASSWORDS[name])
    return home, users


@pytest.fixture(scope="module")
def served(assistant, seed_report: Path, tmp_path_factory: pytest.TempPathFactory):
    """The seed library served with uploads and sign-in; yields (url, assistant, home)."""
    from qa import Access, Assistant

    home, users = team_home(tmp_path_factory.mktemp("team"))
    team = Assistant(seed_report.parent, home=home, encoder=assistant.encoder, uploads=True)
    with running_app(team, Access(users)) as url:
        yield url, team, home


def vector_files(home: Path) -> set[Path]:
    """The stored passage and sentence vectors (not the saved BM25 indexes)."""
    return {path for path in (home / "index").rglob("*.npy") if "bm25" not in path.parts}


def sources_of(answer: dict) -> set[str]:
    return {passage["citation"]["source"] for passage in answer["passages"]}


def test_signed_out_requests_to_the_page_and_the_api_are_refused(served) -> None:
    url, _, _ = served
    page = httpx.get(url)
    assert page.status_code == 200 and '"auth_required":true' in page.text.replace(" ", "")
    assert SEED_QUESTION not in page.text  # the sign-in form, not the app (whose examples hold the question)
    assert httpx.get(url + "config").status_code == 401
    assert httpx.get(url + "gradio_api/info").status_code == 401
    assert httpx.post(url + "gradio_api/call/ask", json={"data": [SEED_QUESTION]}).status_code == 401
    with pytest.raises(Exception, match="credentials"):
        Client(url, analytics_enabled=False, verbose=False)

    began = time.monotonic()
    refused = httpx.post(url + "login", data={"username": "rita", "password": "wrong-password"})
    assert refused.status_code == 400 and time.monotonic() - began >= 1.0  # a wrong password is slowed down
    assert httpx.post(url + "login", data={"username": "nobody", "password": "whatever-it-is"}).status_code == 400
    accepted = httpx.post(url + "login", data={"username": "rita", "password": PASSWORDS["rita"]})
    assert accepted.status_code == 200
    assert httpx.get(url + "config", cookies=accepted.cookies).status_code == 200
    assert SEED_QUESTION in httpx.get(url, cookies=accepted.cookies).text


def test_a_reader_asks_but_cannot_add_remove_or_read_the_audit_log(served) -> None:
    url, team, _ = served
    before = team.library.sources
    rita = signed_in(url, "rita")
    answer = rita.predict(SEED_QUESTION, api_name="/ask")
    assert answer["answered"] and "88人" in answer["passages"][0]["text"]

    added = rita.predict(handle_file(str(LIBRARY_DATA / "report2.txt")), api_name="/add_report")
    assert added == {"error": "'rita' has the reader role: adding documents needs the editor role or above"}
    removed = rita.predict(before[0], api_name="/remove_report")
    assert "reader role" in removed["error"]
    assert "reader role" in rita.predict(api_name="/audit_log")["error"]
    assert team.library.sources == before


def test_an_editor_adds_asks_and_removes_and_the_removed_document_stops_answering(served) -> None:
    url, team, home = served
    ed = signed_in(url, "ed")
    added = ed.predict(handle_file(str(LIBRARY_DATA / "report2.txt")), api_name="/add_report")
    assert added["source"] == "uploads/report2.txt" and added["paragraphs"] > 0
    answer = ed.predict(UPLOAD_QUESTION, api_name="/ask")
    assert answer["answered"] and answer["passages"][0]["citation"]["source"] == "uploads/report2.txt"
    assert UPLOAD_EVIDENCE in answer["passages"][0]["text"]
    sha256 = hashlib.sha256((LIBRARY_DATA / "report2.txt").read_bytes()).hexdigest()
    cached = home / "documents" / f"{sha256}.json"
    vectors_before = vector_files(home)
    assert cached.exists()

    assert ed.predict("uploads/report2.txt", api_name="/remove_report") == {"removed": "uploads/report2.txt"}
    answer = ed.predict(UPLOAD_QUESTION, api_name="/ask")
    assert answer["answered"] is False and "uploads/report2.txt" not in sources_of(answer)  # the seed names no 北仑
    assert UPLOAD_EVIDENCE not in json.dumps(answer, ensure_ascii=False)
    assert not (home / "uploads" / "report2.txt").exists() and not cached.exists()
    assert len(vectors_before - vector_files(home)) == 2  # its passage vectors and its sentence vectors

    again = ed.predict("uploads/report2.txt", api_name="/remove_report")
    assert again["error"].startswith("uploads/report2.txt: no such upload")
    operators = ed.predict(team.library.sources[0], api_name="/remove_report")
    assert "not an upload" in operators["error"] and "operator" in operators["error"]
    escape = ed.predict("uploads/../users.json", api_name="/remove_report")
    assert escape == {"error": "uploads/../users.json: no such upload"} and (home / "users.json").exists()

    entries = [json.loads(line) for line in (home / "audit.log").read_text(encoding="utf-8").splitlines()]
    assert [(e["user"], e["action"], e["source"], e["sha256"]) for e in entries[-2:]] == [
        ("ed", "add", "uploads/report2.txt", sha256), ("ed", "remove", "uploads/report2.txt", sha256)]
    assert all(e["time"].endswith("+00:00") for e in entries)


def test_only_an_admin_reads_the_audit_log(served) -> None:
    url, team, home = served
    ed = signed_in(url, "ed")
    assert "editor role" in ed.predict(api_name="/audit_log")["error"]
    added = ed.predict(handle_file(str(LIBRARY_DATA / "report4.md")), api_name="/add_report")
    ed.predict(added["source"], api_name="/remove_report")
    log = signed_in(url, "ada").predict(api_name="/audit_log")
    assert [(e["user"], e["action"], e["source"]) for e in log["entries"][-2:]] == [
        ("ed", "add", added["source"]), ("ed", "remove", added["source"])]
    assert log["entries"] == team.audit.entries()


def test_a_removed_user_is_refused_at_once(served) -> None:
    url, _, home = served
    from qa import Users

    users = Users(home)
    users.add("temp", "editor", "temporary-secret")
    temp = Client(url, auth=("temp", "temporary-secret"), analytics_enabled=False, verbose=False)
    assert temp.predict(SEED_QUESTION, api_name="/ask")["answered"]
    users.remove("temp")
    refused = temp.predict(SEED_QUESTION, api_name="/ask")
    assert refused["answered"] is False and refused["error"] == "'temp' is no longer a user here"


def test_quotas_are_hit_with_a_clear_message(assistant, seed_report: Path, tmp_path: Path) -> None:
    from qa import Access, Assistant, ReportError, UploadLimits

    home, users = team_home(tmp_path)
    limits = UploadLimits(file_bytes=1024 * 1024, library_bytes=8 * 1024)  # report2.txt fits, not report4.md too
    team = Assistant(seed_report.parent, home=home, encoder=assistant.encoder, uploads=True, limits=limits)
    with running_app(team, Access(users)) as url:
        ed = signed_in(url, "ed")
        assert ed.predict(handle_file(str(LIBRARY_DATA / "report2.txt")), api_name="/add_report")["source"]
        refused = ed.predict(handle_file(str(LIBRARY_DATA / "report4.md")), api_name="/add_report")
    assert refused["error"] == ("report4.md: the uploads would pass their limit of 8 KB in all "
                                "(5.8 KB used, this file 5.3 KB); remove an upload first")
    assert team.uploaded() == ["uploads/report2.txt"]

    small = Assistant(seed_report.parent, home=home, encoder=assistant.encoder, uploads=True,
                      limits=UploadLimits(file_bytes=4 * 1024))
    with pytest.raises(ReportError, match=r"report4\.md: the file is 5\.3 KB, over the limit of 4 KB per upload"):
        small.add_report(LIBRARY_DATA / "report4.md")


def test_a_read_only_server_refuses_changes_to_everyone(assistant, seed_report: Path, tmp_path: Path) -> None:
    from qa import Access, Assistant

    home, users = team_home(tmp_path)
    team = Assistant(seed_report.parent, home=home, encoder=assistant.encoder, uploads=True)
    team.add_report(LIBRARY_DATA / "report2.txt")
    with running_app(team, Access(users, read_only=True)) as url:
        ada = signed_in(url, "ada")
        assert ada.predict(SEED_QUESTION, api_name="/ask")["answered"]
        added = ada.predict(handle_file(str(LIBRARY_DATA / "report4.md")), api_name="/add_report")
        removed = ada.predict("uploads/report2.txt", api_name="/remove_report")
    read_only = "this server is read-only"
    assert added["error"].startswith(read_only) and removed["error"].startswith(read_only)
    assert team.uploaded() == ["uploads/report2.txt"]


@pytest.mark.parametrize(
    "name",
    ["../../escape.txt", "..\\..\\escape.txt", "/etc/escape.txt", "esc\x00ape.txt", ".hidden.txt", "~$lock.txt",
     "长" * 200 + ".txt"],
)
def test_upload_names_never_leave_the_uploads_folder(assistant, seed_report: Path, tmp_path: Path, name: str) -> None:
    from qa import Assistant

    home = home_sharing_the_model(tmp_path / "home")
    team = Assistant(seed_report.parent, home=home, encoder=assistant.encoder, uploads=True)
    added = team.add_report(LIBRARY_DATA / "report2.txt", name)
    stored = home / "uploads" / added["source"].removeprefix("uploads/")
    assert stored.parent == home / "uploads" and stored.is_file()
    assert not stored.name.startswith((".", "~$")) and "\x00" not in stored.name and stored.suffix == ".txt"
    assert len(stored.name.encode("utf-8")) <= 200
    assert sorted(p.name for p in home.iterdir()) == ["audit.log", "documents", "index", "models", "uploads"]


# --- the command line ----------------------------------------------------------------------------


def cli(*args: str, home: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "REPORT_QA_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600)


def test_users_are_added_listed_and_removed_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    added = cli("users", "add", "ed", "--role", "editor", "--password-stdin", home=home, stdin="editor-secret\n")
    assert added.returncode == 0 and added.stdout == "added user ed (editor)\n"
    assert cli("users", "add", "ed", "--role", "admin", "--password-stdin", home=home,
               stdin="another-secret\n").stdout == "updated user ed (admin)\n"
    assert cli("users", "add", "rita", "--role", "reader", "--password-stdin", home=home, stdin="reader-secret\n").returncode == 0
    assert cli("users", "list", home=home).stdout == "ed  admin\nrita  reader\n"
    assert [json.loads(line) for line in cli("users", "list", "--json", home=home).stdout.splitlines()] == [
        {"name": "ed", "role": "admin"}, {"name": "rita", "role": "reader"}]

    text = (home / "users.json").read_text(encoding="utf-8")
    assert "another-secret" not in text and "reader-secret" not in text
    assert stat.S_IMODE((home / "users.json").stat().st_mode) == 0o600
    from qa import Users

    assert Users(home).verify("ed", "another-secret") == "admin" and Users(home).verify("ed", "editor-secret") is None

    assert cli("users", "remove", "rita", home=home).stdout == "removed user rita\n"
    assert cli("users", "list", home=home).stdout == "ed  admin\n"
    for args, stdin, fragment in [
        (("users", "remove", "rita"), "", "no user 'rita'"),
        (("users", "add", "x", "--role", "editor", "--password-stdin"), "short\n", "at least 8 characters"),
        (("users", "add", "a b", "--role", "editor", "--password-stdin"), "long-enough\n", "a user name is"),
    ]:
        refused = cli(*args, home=home, stdin=stdin)
        assert refused.returncode == 2 and refused.stdout == "" and "Traceback" not in refused.stderr
        assert refused.stderr.startswith("report-qa: error: ") and fragment in refused.stderr
    assert cli("users", "add", "x", "--role", "owner", "--password-stdin", home=home, stdin="long-enough\n").returncode == 2


def test_a_damaged_users_file_lets_no_one_in_and_says_why(tmp_path: Path) -> None:
    from qa import Access, NotAllowed, Users

    home = tmp_path / "home"
    home.mkdir()
    (home / "users.json").write_text("{not json", encoding="utf-8")
    access = Access(Users(home))
    assert access.sign_in("ed", "editor-secret") is False and access.allows("ed", "ask") is False
    with pytest.raises(NotAllowed, match="users.json: cannot read the users file"):
        access.check("ed", "ask")
    for args in (("users", "list"), ("users", "remove", "ed"), ("serve", "--auth")):
        refused = cli(*args, home=home)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "cannot read the users file" in refused.stderr
    assert (home / "users.json").read_text(encoding="utf-8") == "{not json"  # never overwritten


def test_serve_asks_for_users_and_warns_off_loopback_without_sign_in(tmp_path: Path) -> None:
    home = tmp_path / "home"
    no_users = cli("serve", "--auth", home=home)
    assert no_users.returncode == 2 and "no users yet" in no_users.stderr and "Traceback" not in no_users.stderr

    env = {**os.environ, "REPORT_QA_HOME": str(home_sharing_the_model(tmp_path / "served")), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--host", "0.0.0.0", "--port", str(free_port())],
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT, env=env)
    try:
        warning = server.stderr.readline()
    finally:
        server.kill()
        server.wait()
    assert warning.startswith("report-qa: warning: serving on 0.0.0.0 without --auth") and warning.count("\n") == 1


def test_an_upload_is_removed_from_the_command_line(assistant, seed_report: Path, tmp_path: Path) -> None:
    from qa import Assistant

    home = home_sharing_the_model(tmp_path / "home")
    library = tmp_path / "library"
    shutil.copytree(seed_report.parent, library)
    Assistant(library, home=home, encoder=assistant.encoder, uploads=True).add_report(LIBRARY_DATA / "report2.txt")
    refused = cli("remove", seed_report.name, "--report", str(library), home=home)
    assert refused.returncode == 2 and "not an upload" in refused.stderr and "Traceback" not in refused.stderr
    removed = cli("remove", "uploads/report2.txt", "--report", str(library), home=home)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == "removed uploads/report2.txt\n" and not (home / "uploads" / "report2.txt").exists()
    entry = json.loads((home / "audit.log").read_text(encoding="utf-8").splitlines()[-1])
    assert entry["action"] == "remove" and entry["user"].endswith("(command line)")
    assert Assistant(library, home=home, encoder=assistant.encoder, uploads=True).uploaded() == []
