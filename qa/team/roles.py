"""Roles and what each may do: readers ask; editors also add and remove documents; admins also
read the audit log."""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["reader", "editor", "admin"]
Action = Literal["ask", "add", "remove", "audit"]
ROLES: tuple[Role, ...] = get_args(Role)
ALLOWED: dict[Role, frozenset[Action]] = {
    "reader": frozenset({"ask"}),
    "editor": frozenset({"ask", "add", "remove"}),
    "admin": frozenset({"ask", "add", "remove", "audit"}),
}
CHANGES: frozenset[Action] = frozenset({"add", "remove"})  # what a read-only server refuses to everyone


def may(role: Role, action: Action) -> bool:
    """Whether ``role`` may do ``action``."""
    return action in ALLOWED[role]


def least_role(action: Action) -> Role:
    """The first role, in order of ``ROLES``, that may do ``action``."""
    return next(role for role in ROLES if may(role, action))
