"""Who may do what on one server. With sign-in, each request acts as its signed-in user, with
that user's role as ``users.json`` holds it now (a removed user is refused at once); without
sign-in, everyone may do everything. A read-only server refuses every change to everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.team.roles import CHANGES, Action, Role, least_role, may
from qa.team.users import AccountError, Users

FAILED_SIGN_IN_DELAY_S = 1.0  # a wrong name or password is answered this much later
ANONYMOUS = "anonymous"  # the user of a request on a server without sign-in
_DOING = {"ask": "asking questions", "add": "adding documents", "remove": "removing documents",
          "audit": "reading the audit log"}


class NotAllowed(PermissionError):
    """A request its user may not make; the message says why, in one line."""


@dataclass(frozen=True)
class Access:
    """The rules of one server.

    Attributes:
        users: the accounts that may sign in; None when the server asks no one to sign in.
        read_only: documents can be neither added nor removed, by anyone.
    """

    users: Users | None = None
    read_only: bool = False

    def sign_in(self, name: str, password: str) -> bool:
        """Whether ``name`` and ``password`` are a user's (always True without sign-in; False
        for everyone while the users file is damaged)."""
        try:
            return self.users is None or self.users.verify(name, password) is not None
        except AccountError:
            return False

    def role(self, user: str | None) -> Role | None:
        """The role ``user`` acts with now: ``admin`` for all without sign-in; None for no one."""
        try:
            return self._role(user)
        except AccountError:
            return None

    def allows(self, user: str | None, action: Action) -> bool:
        """Whether ``user`` may do ``action`` now."""
        role = self.role(user)
        return role is not None and may(role, action) and not (self.read_only and action in CHANGES)

    def check(self, user: str | None, action: Action) -> str:
        """The name ``user`` acts under, when they may do ``action``; else raises :class:`NotAllowed`."""
        if self.read_only and action in CHANGES:
            raise NotAllowed(f"this server is read-only: {_DOING[action]} is turned off for everyone")
        try:
            role = self._role(user)
        except AccountError as error:
            raise NotAllowed(str(error)) from None
        if role is None:
            raise NotAllowed(f"{user!r} is no longer a user here" if user else f"sign in first: {_DOING[action]} needs a user")
        if not may(role, action):
            raise NotAllowed(f"{user!r} has the {role} role: {_DOING[action]} needs the {least_role(action)} role or above")
        return user or ANONYMOUS

    def _role(self, user: str | None) -> Role | None:
        """:meth:`role`, raising :class:`AccountError` for a damaged users file."""
        if self.users is None:
            return "admin"
        return self.users.role(user) if user else None
