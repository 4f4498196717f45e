"""JSON-lines files of written data, read as typed rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

Row = TypeVar("Row")


def read_rows(path: Path, row: Callable[..., Row]) -> list[Row]:
    """Each non-blank line of the JSON-lines file ``path`` as ``row(**fields)``."""
    return [row(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
