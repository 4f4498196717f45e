"""Files that cannot hurt the server: a zip-bomb .docx, a decompression-bomb PDF and a symbolic
link out of the library, made by real tools (zipfile, python-docx, hand-written PDF bytes that
pypdf reads, os.symlink). Each is refused with its reason while a ``report-qa list`` process
stays within a bounded distance of its peak memory on the same library without it, and the rest
of the library answers, from the command line and through a real server."""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before gradio_client is imported: it must not contact the hub

from gradio_client import Client, handle_file  # noqa: E402

from conftest import LIBRARY_DATA, ROOT, home_sharing_the_model, running_app, write_docx  # noqa: E402

MB = 1024 * 1024
BOMB_BYTES = 512 * MB  # what each bomb inflates to; a few hundred KB on disk
RSS_ALLOWANCE_MB = 150  # peak RSS of `list` with one hostile file, above the same run without it
SECRET = "机密：这一行在文档库之外，绝不能出现在回答里。"


def zip_bomb_docx(target: Path, size: int = BOMB_BYTES) -> None:
    """A real .docx (python-docx) whose word/document.xml is padded with whitespace to ``size``."""
    plain = target.with_name("plain.docx")
    write_docx(LIBRARY_DATA / "report5_docx_source.txt", plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for member in source.infolist():
            data = source.read(member)
            if member.filename != "word/document.xml":
                bomb.writestr(member, data)
                continue
            head, tail = data.split(b"<w:body>")
            with bomb.open("word/document.xml", "w", force_zip64=size > 1024 * MB) as xml:
                xml.write(head + b"<w:body>")
                for _ in range(size // MB):
                    xml.write(b" " * MB)
                xml.write(tail)
    plain.unlink()


def bomb_pdf(target: Path) -> None:
    """A one-page PDF whose content stream is FlateDecode of BOMB_BYTES (mostly blanks)."""
    deflate = zlib.compressobj(9)
    stream = deflate.compress(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET\n")
    stream += b"".join(deflate.compress(b" " * MB) for _ in range(BOMB_BYTES // MB)) + deflate.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    target.write_bytes(bytes(pdf))


def outward_link(target: Path) -> None:
    """A symbolic link in the library to a report-looking file outside it."""
    secret = target.parent.parent / "outside" / "secret.txt"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text(f"外部文件\n\n{SECRET}\n", encoding="utf-8")
    target.symlink_to(secret)


HOSTILE: dict[str, tuple[Callable[[Path], None], str]] = {
    "bomb.docx": (zip_bomb_docx, "refused: word/document.xml inflates more than 100 times its compressed size"),
    "bomb.pdf": (bomb_pdf, "refused: a PDF stream inflates more than 100 times its compressed size"),
    "leak.txt": (outward_link, "skipped: a symbolic link to a place outside the library folder"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding each hostile file once (made once for the module)."""
    folder = tmp_path_factory.mktemp("hostile") / "made"
    folder.mkdir()
    for name, (make, _) in HOSTILE.items():
        make(folder / name)
    return folder


@pytest.fixture
def library(tmp_path: Path, seed_report: Path) -> Path:
    """The seed report and a normal .docx."""
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / seed_report.name).write_bytes(seed_report.read_bytes())
    write_docx(LIBRARY_DATA / "report5_docx_source.txt", folder / "normal.docx")
    return folder


def place(hostile: Path, name: str, folder: Path) -> Path:
    """Put hostile file ``name`` into ``folder`` (a link is re-pointed at the same place)."""
    made, target = hostile / name, folder / name
    if made.is_symlink():
        target.symlink_to(os.readlink(made))
    else:
        target.write_bytes(made.read_bytes())
    return target


def peak_rss(*args: str, env: dict[str, str]) -> tuple[float, str]:
    """Run ``report-qa ARGS`` and return (its peak RSS in MB, its output)."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen([sys.executable, "-m", "qa.cli", *args], stdout=output, stderr=subprocess.STDOUT,
                                   cwd=ROOT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8")
    assert process.returncode == 0, text
    return usage.ru_maxrss / 1024, text


def test_the_hostile_files_are_real(hostile: Path) -> None:
    from pypdf import PdfReader

    with zipfile.ZipFile(hostile / "bomb.docx") as bomb:
        member = bomb.getinfo("word/document.xml")
        assert member.file_size > BOMB_BYTES and member.compress_size < member.file_size / 500
        assert bomb.testzip() is None  # intact: every member inflates and matches its CRC
    assert len(PdfReader(hostile / "bomb.pdf").pages) == 1
    assert (hostile / "bomb.pdf").stat().st_size < BOMB_BYTES / 500
    assert (hostile / "leak.txt").is_symlink() and SECRET in (hostile / "leak.txt").read_text(encoding="utf-8")


def test_hostile_files_are_refused_with_bounded_memory_and_the_rest_answers(hostile: Path, library: Path,
                                                                          tmp_path: Path, seed_report: Path) -> None:
    env = {**os.environ, "REPORT_QA_HOME": str(home_sharing_the_model(tmp_path / "home")), "HF_HUB_OFFLINE": "1"}
    listing = ("list", "--json", "--report", str(library))
    peak_rss(*listing, env=env)  # the readable documents are read once and cached
    normal, _ = peak_rss(*listing, env=env)
    readable = [seed_report.name, "normal.docx"]
    peaks = {}
    for name, (_, reason) in HOSTILE.items():
        path = place(hostile, name, library)
        peaks[name], output = peak_rss(*listing, env=env)
        rows = [json.loads(line) for line in output.splitlines()]
        assert [row["source"] for row in rows if "error" not in row] == readable
        assert [row for row in rows if "error" in row] == [{"source": name, "error": rows[-1]["error"]}]
        assert rows[-1]["error"].startswith(reason)
        path.unlink()
    print(f"peak RSS of `report-qa list`: {normal:.0f} MB without a hostile file; "
          + ", ".join(f"{name} {peak:.0f} MB" for name, peak in peaks.items()))
    assert all(peak - normal < RSS_ALLOWANCE_MB for peak in peaks.values()), (normal, peaks)

    for name in HOSTILE:
        place(hostile, name, library)
    asked = subprocess.run([sys.executable, "-m", "qa.cli", "ask", "凤岗办事处有多少名员工？", "--report", str(library),
                            "--retriever", "bm25", "--json"], capture_output=True, text=True, cwd=ROOT, env=env,
                           timeout=600)
    answer = json.loads(asked.stdout)
    assert answer["answered"] and "88人" in answer["passages"][0]["text"]
    secret = subprocess.run([sys.executable, "-m", "qa.cli", "ask", SECRET, "--report", str(library),
                             "--retriever", "bm25", "--json", "--top-k", "50"], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=600)
    assert "外部文件" not in secret.stdout and "绝不能出现" not in secret.stdout.replace(SECRET, "")
    assert {p["citation"]["source"] for p in json.loads(secret.stdout)["passages"]} <= set(readable)


def test_a_server_refuses_bomb_uploads_and_answers_on(assistant, hostile: Path, seed_report: Path,
                                                      tmp_path: Path) -> None:
    from qa import Assistant

    home = home_sharing_the_model(tmp_path / "home")
    served = Assistant(seed_report.parent, home=home, encoder=assistant.encoder, uploads=True)
    with running_app(served) as url:
        api = Client(url, analytics_enabled=False, verbose=False, download_files=False)
        assert api.predict(handle_file(str(LIBRARY_DATA / "report2.txt")), api_name="/add_report")["paragraphs"]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the server up, an upload read
        for name in ("bomb.docx", "bomb.pdf"):
            refused = api.predict(handle_file(str(hostile / name)), api_name="/add_report")
            assert refused["error"].startswith(f"{name}: {HOSTILE[name][1]}")
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
        answer = api.predict("凤岗办事处有多少名员工？", api_name="/ask")
    assert grown < RSS_ALLOWANCE_MB
    assert answer["answered"] and "88人" in answer["passages"][0]["text"]
    assert served.uploaded() == ["uploads/report2.txt"]
    assert sorted(p.name for p in (home / "uploads").iterdir()) == ["report2.txt"]  # no staged copy left behind


def understate(archive_path: Path, name: str, declared: int) -> None:
    """Make ``archive_path``'s headers (local and central) declare ``declared`` bytes for member ``name``."""
    data = bytearray(archive_path.read_bytes())
    with zipfile.ZipFile(archive_path) as archive:
        member = archive.getinfo(name)
    struct.pack_into("<L", data, member.header_offset + 22, declared)
    end = data.rindex(b"PK\x05\x06")
    entry = struct.unpack_from("<L", data, end + 16)[0]  # where the central directory starts
    while data[entry + 46:entry + 46 + len(name)] != name.encode():
        entry += 46 + sum(struct.unpack_from("<3H", data, entry + 28))
    struct.pack_into("<L", data, entry + 24, declared)
    archive_path.write_bytes(bytes(data))


def test_a_zip_member_that_inflates_beyond_its_declared_size_is_refused(tmp_path: Path) -> None:
    """A .docx whose headers understate document.xml's size (Python's zipfile would inflate all
    of it at once before cutting it to the declared size) is refused a chunk past that size."""
    from qa import ReportError, read_report

    lying = tmp_path / "lying.docx"
    zip_bomb_docx(lying, size=64 * MB)
    understate(lying, "word/document.xml", 4096)
    with zipfile.ZipFile(lying) as archive:
        assert archive.getinfo("word/document.xml").file_size == 4096
    with pytest.raises(ReportError, match=r"lying\.docx: refused: word/document\.xml inflates beyond the 4 KB it declares"):
        read_report(lying)
