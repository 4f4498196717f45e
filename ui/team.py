"""The page and API as a team sees them: signing in, what each role is shown, removing uploads,
and the audit log. Every endpoint checks its request's user with :class:`qa.Access` itself:
what a role is not shown, it also cannot call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import gradio as gr

from qa import FAILED_SIGN_IN_DELAY_S, Access, Assistant, NotAllowed, ReportError
from ui.render import esc

ROLE_LABELS = {"reader": "读者", "editor": "编辑", "admin": "管理员"}
ACTION_LABELS = {"add": "加入", "remove": "删除"}


def sign_in(access: Access) -> Callable[[str, str], Awaitable[bool]]:
    """Gradio's ``auth`` callable: the password is checked off the event loop, and a failed
    sign-in is answered only after ``FAILED_SIGN_IN_DELAY_S``."""

    async def check(name: str, password: str) -> bool:
        if await asyncio.to_thread(access.sign_in, name, password):
            return True
        await asyncio.sleep(FAILED_SIGN_IN_DELAY_S)
        return False

    return check


def user_of(request: gr.Request | None) -> str | None:
    """The signed-in user of a request (None without sign-in)."""
    return getattr(request, "username", None)


def remove_report_json(assistant: Assistant, access: Access, source: Any, user: str | None) -> dict[str, Any]:
    """Remove an upload for ``user``: ``{"removed": source}``, or ``{"error": ...}`` with the
    library left as it was."""
    try:
        name = access.check(user, "remove")
        if not isinstance(source, str) or not source:
            return {"error": "give the source of an upload (uploads/NAME), as the library lists it"}
        return assistant.remove_report(source, user=name)
    except (NotAllowed, ReportError) as error:
        return {"error": str(error)}


def audit_json(assistant: Assistant, access: Access, user: str | None) -> dict[str, Any]:
    """The audit log's last entries for an admin: ``{"entries": [...]}``, or ``{"error": ...}``."""
    try:
        access.check(user, "audit")
    except NotAllowed as error:
        return {"error": str(error)}
    return {"entries": assistant.audit.entries()}


def audit_html(result: dict[str, Any]) -> str:
    """The audit log (newest first) as a table, or the reason it is not shown."""
    if "error" in result:
        return f'<div class="verdict bad">{esc(result["error"])}</div>'
    rows = [
        f'<tr><td>{esc(str(entry.get("time", "")))}</td><td>{esc(str(entry.get("user", "")))}</td>'
        f'<td>{esc(ACTION_LABELS.get(entry.get("action"), str(entry.get("action", ""))))}</td>'
        f'<td class="source">{esc(str(entry.get("source", "")))}</td>'
        f'<td class="source" title="{esc(str(entry.get("sha256", "")))}">{esc(str(entry.get("sha256", ""))[:12])}</td></tr>'
        for entry in reversed(result["entries"])
    ]
    if not rows:
        return '<div class="library-count">审计日志：还没有记录</div>'
    return ('<div class="library" id="audit-log"><table><thead><tr><th>时间 (UTC)</th><th>用户</th><th>操作</th>'
            f'<th>文件</th><th>SHA-256</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def signed_in_html(access: Access, user: str | None) -> str:
    """Who is signed in, with their role and a sign-out link (empty without sign-in)."""
    role = access.role(user)
    if access.users is None or role is None:
        return ""
    return (f'<div class="signed-in">已登录：{esc(user or "")}（{ROLE_LABELS[role]}） '
            '<a href="logout">退出登录</a></div>')


def shown_to(access: Access, user: str | None) -> tuple[Any, Any, Any, str]:
    """What the page shows ``user``: (upload control, remove control, audit log, signed-in line)."""
    return (
        gr.update(visible=access.allows(user, "add")),
        gr.update(visible=access.allows(user, "remove")),
        gr.update(visible=access.allows(user, "audit")),
        signed_in_html(access, user),
    )
