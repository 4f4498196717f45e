"""The prepared default model's folder: which model it holds, where its ONNX export goes, the
lock held while anything writes into it, and reading a file of it that may need rebuilding."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from filelock import FileLock

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
PREPARED_DEFAULT_DIR = "multilingual-e5-small-q4"
ONNX_MODEL = "onnx/model.onnx"  # where sentence-transformers' ONNX backend looks too
T = TypeVar("T")


def preparation_lock(folder: Path) -> FileLock:
    """The file lock beside a prepared model folder, held while anything writes into it."""
    return FileLock(str(folder.parent / f".{folder.name}.lock"))


def read_or_rebuild(folder: Path, read: Callable[[], T], rebuild: Callable[[Exception], None],
                    errors: tuple[type[Exception], ...]) -> T:
    """``read()`` a file of a prepared folder; when it raises one of ``errors``, under the
    preparation lock: ``read()`` again (another process may just have rebuilt it), else
    ``rebuild(error)`` and ``read()``."""
    try:
        return read()
    except errors:
        pass
    with preparation_lock(folder):
        try:
            return read()
        except errors as error:
            rebuild(error)
        return read()
