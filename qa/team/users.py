"""User accounts in ``$REPORT_QA_HOME/users.json``: each name with its role and a salted scrypt
hash of its password (never the password). The file is rewritten atomically under a lock, and
read again at each look-up, so a user added or removed counts at once, even on a running server.

``users.json``: ``{"version": 1, "users": {NAME: {"role": ..., "salt": HEX, "hash": HEX, "n": N,
"r": R, "p": P}}}`` (scrypt's parameters are stored with each hash, so they can grow later).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from embeddings.home import atomic_write
from qa.team.roles import ROLES, Role

USERS_FILE = "users.json"
FORMAT_VERSION = 1
MIN_PASSWORD_LENGTH = 8
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # 16 MiB and about 50 ms per hash
_SALT_BYTES = 16
_NAME = re.compile(r"[\w.@-]{1,64}")
_NOBODY = {"salt": "00" * _SALT_BYTES, "hash": "", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}


class AccountError(ValueError):
    """A bad name, role or password, an unknown user, or a damaged users file; one line."""


@dataclass(frozen=True)
class User:
    """A user's name and role."""

    name: str
    role: Role


class Users:
    """The user accounts kept in ``home/users.json``."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / USERS_FILE
        self._lock = FileLock(str(self.path) + ".lock")

    def add(self, name: str, role: str, password: str) -> bool:
        """Add user ``name`` with ``role`` and ``password`` (or replace both); True when replaced.

        Raises :class:`AccountError` for a bad name, role or password.
        """
        if not _NAME.fullmatch(name):
            raise AccountError(f"{name!r}: a user name is 1 to 64 letters, digits, '.', '@', '_' or '-'")
        if role not in ROLES:
            raise AccountError(f"{role!r}: the role is one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        salt = os.urandom(_SALT_BYTES)
        entry = {"role": role, "salt": salt.hex(), "hash": _hash(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P).hex(),
                 "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}
        with self._lock:
            accounts = self._read()
            replaced = name in accounts
            accounts[name] = entry
            self._write(accounts)
        return replaced

    def remove(self, name: str) -> None:
        """Remove user ``name``; raises :class:`AccountError` for an unknown one."""
        with self._lock:
            accounts = self._read()
            if name not in accounts:
                raise AccountError(f"no user {name!r} (see `report-qa users list`)")
            del accounts[name]
            self._write(accounts)

    def all(self) -> list[User]:
        """Every user, by name."""
        return [User(name, entry["role"]) for name, entry in sorted(self._read().items())]

    def role(self, name: str) -> Role | None:
        """The role of user ``name``, or None for an unknown one."""
        entry = self._read().get(name)
        return entry["role"] if entry else None

    def verify(self, name: str, password: str) -> Role | None:
        """The role of user ``name`` when ``password`` is theirs, else None. An unknown name costs
        the same hashing as a known one."""
        entry = self._read().get(name)
        known = entry or _NOBODY
        digest = _hash(password, bytes.fromhex(known["salt"]), known["n"], known["r"], known["p"])
        if entry is None or not hmac.compare_digest(digest.hex(), entry["hash"]):
            return None
        return entry["role"]

    def _read(self) -> dict[str, dict]:
        """The accounts by name; raises :class:`AccountError` for a file that is not a users file."""
        try:
            content = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise AccountError(f"{self.path}: cannot read the users file ({error})") from None
        accounts = content.get("users") if isinstance(content, dict) else None
        if not isinstance(accounts, dict) or content.get("version") != FORMAT_VERSION or not all(
            isinstance(entry, dict) and entry.get("role") in ROLES and {"salt", "hash", "n", "r", "p"} <= entry.keys()
            for entry in accounts.values()
        ):
            raise AccountError(f"{self.path}: not a users file of this version (fix or delete it, then add users again)")
        return accounts

    def _write(self, accounts: dict[str, dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"version": FORMAT_VERSION, "users": accounts}, ensure_ascii=False, indent=1)
        atomic_write(self.path, data.encode("utf-8"))  # readable by its owner only, as its temp file was


def _hash(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * n * r * p, dklen=32)
