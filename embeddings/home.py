"""Where report-qa keeps its state (prepared models, vectors, cached documents, uploads), and
how files and folders there are written: atomically, so a killed writer never leaves a half
file or folder in place."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

TEMP_SUFFIX = ".tmp"


def report_qa_home() -> Path:
    """`$REPORT_QA_HOME` if set, else the user cache dir for report-qa; created if missing."""
    home = Path(os.environ.get("REPORT_QA_HOME") or platformdirs.user_cache_dir("report-qa")).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def atomic_write(path: Path, data: bytes | memoryview) -> None:
    """Write to a temp file beside ``path``, fsync, then ``os.replace`` it over ``path``."""
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX, delete=False)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    directory_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def read_json_object(path: Path) -> dict:
    """The JSON object in ``path``, or ``{}`` when it is missing, unreadable or not an object."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


@contextmanager
def staged_dir(out_dir: Path) -> Iterator[Path]:
    """A temp folder beside `out_dir` that, if the block succeeds, is fsynced and renamed over `out_dir`."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir()
    try:
        yield tmp_dir
        _fsync_tree(tmp_dir)
        _replace_dir(tmp_dir, out_dir)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def remove_staged_leftovers(out_dir: Path) -> None:
    """Delete the temp folders that interrupted writes of `out_dir` (:func:`staged_dir`) left
    behind (callers hold a lock: another writer's folder would go too)."""
    out_dir = Path(out_dir)
    for leftover in out_dir.parent.glob(f".{out_dir.name}.*-*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _replace_dir(src: Path, dst: Path) -> None:
    """Move `src` to `dst`; an existing `dst` is moved aside first and then deleted."""
    old = dst.parent / f".{dst.name}.old-{os.getpid()}"
    if dst.exists():
        os.replace(dst, old)
    os.replace(src, dst)
    shutil.rmtree(old, ignore_errors=True)
