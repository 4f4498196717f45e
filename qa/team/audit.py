"""The audit log: every document added to or removed from a library's uploads, one JSON object
per line in ``$REPORT_QA_HOME/audit.log``: ``time`` (UTC, ISO 8601), ``user``, ``action``
(``add`` or ``remove``), ``source`` and ``sha256`` (of the file's bytes).

The file is only ever appended to: each entry is one ``write`` to a file opened with
``O_APPEND``, then synced to disk.
"""

from __future__ import annotations

import json
import os
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

AUDIT_FILE = "audit.log"


class AuditLog:
    """The audit log kept in ``home/audit.log``."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / AUDIT_FILE

    def record(self, user: str, action: str, source: str, sha256: str) -> dict[str, str]:
        """Append one entry and return it."""
        entry = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "user": user,
                 "action": action, "source": source, "sha256": sha256}
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return entry

    def entries(self, last: int = 200) -> list[dict[str, Any]]:
        """The ``last`` entries, oldest first (a line that is not an entry is passed over)."""
        try:
            with self.path.open(encoding="utf-8", errors="replace") as handle:
                lines = deque(handle, maxlen=last)
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries
