"""The uploads folder (``$REPORT_QA_HOME/uploads/``): file names that stay inside it, size limits
per file and for all uploads together, and the file behind an upload's source
(``uploads/<name>``, see :data:`qa.documents.library.UPLOADS_PREFIX`)."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qa.documents.ingest import ReportError
from qa.documents.library import UPLOADS_PREFIX
from qa.documents.readers.limits import size_text

UPLOADS_DIR = "uploads"
MEGABYTE = 1024 * 1024
MAX_UPLOAD_BYTES = 50 * MEGABYTE
MAX_LIBRARY_BYTES = 2000 * MEGABYTE
MAX_NAME_BYTES = 200  # UTF-8 bytes; file systems allow 255, and a taken name gets "-2" ...
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LEADING = " .~$"  # hidden files and editors' lock files (~$x.docx) are not part of a library


@dataclass(frozen=True)
class UploadLimits:
    """How large one upload may be, and all uploads together (bytes)."""

    file_bytes: int = MAX_UPLOAD_BYTES
    library_bytes: int = MAX_LIBRARY_BYTES

    def check(self, name: str, size: int, folder: Path) -> None:
        """Raise :class:`ReportError` when a file of ``size`` bytes named ``name`` may not be added
        to the uploads in ``folder``."""
        if size > self.file_bytes:
            raise ReportError(f"{name}: the file is {size_text(size)}, over the limit of {size_text(self.file_bytes)} "
                              "per upload")
        used = folder_bytes(folder)
        if used + size > self.library_bytes:
            raise ReportError(f"{name}: the uploads would pass their limit of {size_text(self.library_bytes)} in all "
                              f"({size_text(used)} used, this file {size_text(size)}); remove an upload first")


def folder_bytes(folder: Path) -> int:
    """The size of every file under ``folder`` (0 when it does not exist)."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def safe_name(name: str) -> str:
    """``name`` as a file name inside the uploads folder: its last path component (after ``/`` or
    ``\\``), without control characters and NUL, without leading dots, spaces or ``~$``, and at
    most ``MAX_NAME_BYTES`` long in UTF-8 (the stem cut, the suffix kept).

    Raises :class:`ReportError` when nothing of the name is left.
    """
    base = _CONTROL.sub("", re.split(r"[/\\]", name)[-1]).lstrip(_LEADING).rstrip(" ")
    suffix = Path(base).suffix
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    stem = base.removesuffix(suffix).encode("utf-8")[:max(budget, 0)].decode("utf-8", "ignore").rstrip(" ")
    if not stem or budget < 0:
        raise ReportError(f"{name[:80]!r}: not a usable file name")
    return stem + suffix


def free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/stem-2.ext`` … when that name is taken."""
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{number}{suffix}"
        number += 1
    return candidate


def stage_copy(path: Path, folder: Path) -> Path:
    """A hidden copy of ``path`` inside ``folder`` (same suffix), not yet part of the library."""
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", suffix=path.suffix.lower(), delete=False)
    with handle, path.open("rb") as source:
        shutil.copyfileobj(source, handle)
    return Path(handle.name)


def upload_file(folder: Path, source: str) -> Path:
    """The file in ``folder`` of the upload named ``source``; raises :class:`ReportError` for a
    source that is not an upload (the report folder's documents are never removed from here)."""
    if not source.startswith(UPLOADS_PREFIX):
        raise ReportError(f"{source}: not an upload; documents of the report folder are the operator's "
                          "and are removed only from that folder")
    path = folder / source[len(UPLOADS_PREFIX):]
    if path.is_symlink() or not path.resolve().is_relative_to(folder.resolve()) or not path.is_file():
        raise ReportError(f"{source}: no such upload")
    return path
