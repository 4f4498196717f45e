"""The ``report-qa`` command line: ask, list, eval, index, serve, remove, users."""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from embeddings.models import ModelUnavailable
from embeddings.stores import StoreError, open_store
from qa.assistant import DEFAULT_TOP_K, Assistant, UnknownDocument, default_report
from qa.documents.ingest import ReportError
from qa.documents.library import read_library, summary
from qa.documents.uploads import MAX_LIBRARY_BYTES, MAX_UPLOAD_BYTES, MEGABYTE, UploadLimits
from qa.evaluate import HIT_DEPTHS, evaluate, read_gold
from qa.language.question import QuestionError, clean_question
from qa.results import Answer, Passage, refusal
from qa.retrieval.retriever import RETRIEVERS
from qa.team.access import Access
from qa.team.roles import ROLES
from qa.team.users import AccountError, Users

EXIT_USAGE = 2
_MARK_ON, _MARK_OFF = ("\033[7m", "\033[0m") if sys.stdout.isatty() else ("⟦", "⟧")


class UserError(Exception):
    """A problem with what the user gave us; printed as one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="report-qa", description="Find the passages of your reports that answer a question.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--report", help="a report file (.txt .md .docx .pdf .html) or a folder of them (a library); default: seeds/"
    )
    common.add_argument("--model", help="encoder model name or path (default: $REPORT_QA_MODEL or multilingual-e5-small)")
    common.add_argument("--store", metavar="URI",
                        help="where passages are indexed: faiss, milvus:PATH.db or http(s)://HOST:PORT "
                             "(default: $REPORT_QA_STORE or faiss; Milvus token from $MILVUS_TOKEN)")
    commands = parser.add_subparsers(dest="command", required=True)

    ask = commands.add_parser("ask", parents=[common], help="answer one question (or a file of questions)")
    ask.add_argument("question", nargs="?", help="the question")
    ask.add_argument("--file", type=Path, help="answer one question per line of this file (implies one JSON object per line)")
    ask.add_argument("--top-k", type=int, default=DEFAULT_TOP_K, help=f"passages to return (default {DEFAULT_TOP_K})")
    ask.add_argument("--json", action="store_true", help="print the contract JSON object")
    ask.add_argument("--retriever", choices=RETRIEVERS, default="hybrid")
    ask.add_argument("--document", action="append", metavar="SOURCE",
                     help="only answer from this document (its source, as `list` prints it); repeatable")

    listing = commands.add_parser("list", parents=[common], help="list the library's documents")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")

    gold = commands.add_parser("eval", parents=[common], help="measure retrieval and answers on a gold .jsonl file")
    gold.add_argument("gold", type=Path)
    gold.add_argument("--json", action="store_true")
    gold.add_argument("--verbose", action="store_true", help="list the questions that failed")
    gold.add_argument("--retriever", choices=RETRIEVERS, default="hybrid")

    commands.add_parser("index", parents=[common], help="build or rebuild the vector index (and prepare the model)")

    serve = commands.add_parser("serve", parents=[common], help="start the browser chat UI")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument("--workers", type=int, default=None, help="questions answered at once (default 8)")
    serve.add_argument("--auth", action="store_true",
                       help="require sign-in for the page and the API (users from `report-qa users add`)")
    serve.add_argument("--read-only", action="store_true", help="no one may add or remove documents")
    serve.add_argument("--max-upload-mb", type=float, default=MAX_UPLOAD_BYTES / MEGABYTE, metavar="MB",
                       help=f"largest file one upload may be (default {MAX_UPLOAD_BYTES // MEGABYTE})")
    serve.add_argument("--max-library-mb", type=float, default=MAX_LIBRARY_BYTES / MEGABYTE, metavar="MB",
                       help=f"most all uploads together may hold (default {MAX_LIBRARY_BYTES // MEGABYTE})")

    remove = commands.add_parser("remove", parents=[common],
                                 help="remove an uploaded document (source uploads/NAME) and what was cached of it")
    remove.add_argument("source", help="the upload's source, as `list` prints it")

    users = commands.add_parser("users", help="the users who may sign in to `serve --auth`")
    accounts = users.add_subparsers(dest="users_command", required=True)
    add = accounts.add_parser("add", help="add a user, or give one a new role and password")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True,
                     help="reader: asks; editor: also adds and removes documents; admin: also reads the audit log")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input (default: ask for it twice)")
    user_list = accounts.add_parser("list", help="every user and role")
    user_list.add_argument("--json", action="store_true", help="one JSON object per line")
    accounts.add_parser("remove", help="remove a user (refused at once, even when signed in)").add_argument("name")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``report-qa`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    commands = {"ask": _ask, "list": _list, "eval": _eval, "index": _index, "serve": _serve, "remove": _remove,
                "users": _users}
    try:
        return commands[args.command](args)
    except (UserError, ReportError, QuestionError, ModelUnavailable, UnknownDocument, StoreError, AccountError) as error:
        print(f"report-qa: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _assistant(args: argparse.Namespace, retriever: str = "hybrid", progress: bool = False,
               uploads: bool = False, limits: UploadLimits = UploadLimits()) -> Assistant:
    return Assistant(args.report, retriever=retriever, model=args.model, progress=progress, uploads=uploads,
                     limits=limits, store=args.store)


def _ask(args: argparse.Namespace) -> int:
    if args.top_k < 1:
        raise UserError("--top-k must be at least 1")
    if args.file is None:
        if args.question is None:
            raise UserError("give a question, or --file with one question per line")
        clean_question(args.question)  # refuse a bad question before loading anything
        assistant = _assistant(args, args.retriever)
        answer = assistant.ask(args.question, top_k=args.top_k, documents=args.document)
        print(_dumps(answer.to_dict()) if args.json else format_answer(answer))
        return 0
    try:
        lines = args.file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        raise UserError(f"{args.file}: {error.strerror or error}") from None
    assistant = _assistant(args, args.retriever)
    for line in lines:
        try:
            print(_dumps(assistant.ask(line, top_k=args.top_k, documents=args.document).to_dict()), flush=True)
        except QuestionError as error:
            print(_dumps(refusal(line, str(error))), flush=True)
    return 0


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def format_answer(answer: Answer) -> str:
    """Human output: the top passage with its citation and marked highlight, then up to 2 more."""
    lines = [f"问：{answer.question}"]
    if not answer.answered:
        lines.append("不在报告中：报告没有回答这个问题。" + (f"（{answer.reason}）" if answer.reason else ""))
        lines.append("最接近的段落（不是答案）：")
    for passage in answer.passages[:3]:
        citation = passage.citation
        where = citation.section + (f" / {citation.subsection}" if citation.subsection else "")
        signals = "  ".join(f"{name} {value:.3f}" for name, value in passage.signals.items())
        lines.append(f"\n[{citation.source} {citation.label}] 《{citation.document}》 {where}  "
                     f"（字符 {citation.start}–{citation.end}；{signals}）")
        lines.append(_marked(passage))
        if passage.rank == 1 and answer.answered and len(answer.passages) > 1:
            lines.append("\n其他相关段落：")
    return "\n".join(lines)


def _marked(passage: Passage) -> str:
    """The passage's text with each highlight marked, and the answer span inside it in 【】."""
    out, current = [], None
    for piece, highlight, answer in passage.pieces():
        if highlight != current:
            out.append((_MARK_OFF if current is not None else "") + (_MARK_ON if highlight is not None else ""))
            current = highlight
        out.append(f"【{piece}】" if answer else piece)
    out.append(_MARK_OFF if current is not None else "")
    return "".join(out)


def _list(args: argparse.Namespace) -> int:
    from embeddings import report_qa_home

    from qa.documents.stored import stored_library

    home = report_qa_home()
    store = open_store(args.store, home)
    report = Path(args.report or default_report())
    library = read_library(report, home)
    indexed = store.indexed(stored_library([report], library), _model_id(args.model, home))
    rows = [summary(item.document, indexed=flag) for item, flag in zip(library.prepared, indexed)]
    rows += [{"source": u.source, "error": u.error} for u in library.unreadable]
    for row in rows:
        if args.json:
            print(_dumps(row))
        elif "error" in row:
            print(f"{row['source']}  不可读：{row['error']}")
        else:
            pages = f"{row['pages']} 页  " if row["pages"] else ""
            empty = f"（第 {'、'.join(map(str, row['empty_pages']))} 页未读出文字）" if row.get("empty_pages") else ""
            print(f"{row['source']}  《{row['title']}》  {row['format']}  {pages}{row['sections']} 节  {row['paragraphs']} 段  "
                  f"{'已索引' if row['indexed'] else '未索引'}{empty}")
    return 0


def _model_id(model: str | None, home: Path) -> str:
    """The chosen model's identity, to tell which documents are indexed (no model load)."""
    from embeddings import resolve_model
    from embeddings.models import model_identity

    return model_identity(resolve_model(model, home))


def _eval(args: argparse.Namespace) -> int:
    try:
        questions = read_gold(args.gold)
    except OSError as error:
        raise UserError(f"{args.gold}: {error.strerror or error}") from None
    except ValueError as error:
        raise UserError(str(error)) from None
    assistant = _assistant(args, args.retriever)
    report = evaluate(questions, lambda q: assistant.ask(q, top_k=max(HIT_DEPTHS)))
    if args.json:
        print(_dumps({"retriever": args.retriever, **report.metrics, "failures": report.failures}))
        return 0
    print(f"retriever: {args.retriever}   questions: {report.metrics['answerable']} answerable, {report.metrics['unanswerable']} unanswerable")
    for name, value in report.metrics.items():
        if name not in ("answerable", "unanswerable"):
            print(f"{name:>18}  {'n/a' if value is None else f'{value:.3f}'}")
    if args.verbose:
        for failure in report.failures:
            print(f"  FAIL {failure['id']}: {failure['question']} -> {failure['failure']}" + (f" (top {failure['top']})" if failure.get("top") else ""))
    return 0


def _index(args: argparse.Namespace) -> int:
    assistant = _assistant(args, "hybrid", progress=True)
    library = assistant.library
    print(f"index ready: {len(library.documents)} documents, {len(library)} paragraphs"
          + (f"; {len(library.unreadable)} unreadable files skipped (see `report-qa list`)" if library.unreadable else ""))
    return 0


def _serve(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        raise UserError("--workers must be at least 1")
    limits = UploadLimits(_bytes(args.max_upload_mb, "--max-upload-mb"), _bytes(args.max_library_mb, "--max-library-mb"))
    from embeddings import report_qa_home

    users = Users(report_qa_home()) if args.auth else None
    if users is not None and not users.all():
        raise UserError("--auth: no users yet; add one with `report-qa users add NAME --role admin`")
    if users is None and not _is_loopback(args.host):
        print(f"report-qa: warning: serving on {args.host} without --auth: anyone who can reach it can read, "
              "add and remove documents", file=sys.stderr, flush=True)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from ui.app import WORKERS, serve

    assistant = _assistant(args, "hybrid", uploads=True, limits=limits)
    assistant.warm_up()  # the page opens ready: no first question pays for loading
    serve(assistant, Access(users, read_only=args.read_only), host=args.host, port=args.port,
          workers=args.workers or WORKERS)
    return 0


def _bytes(megabytes: float, option: str) -> int:
    if not megabytes > 0:
        raise UserError(f"{option} must be more than 0")
    return int(megabytes * MEGABYTE)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _remove(args: argparse.Namespace) -> int:
    removed = _assistant(args, uploads=True).remove_report(args.source, user=_command_line_user())
    print(f"removed {removed['removed']}")
    return 0


def _command_line_user() -> str:
    """The audit log's user for the command line: the account running it."""
    try:
        return f"{getpass.getuser()} (command line)"
    except (OSError, KeyError):
        return "(command line)"


def _users(args: argparse.Namespace) -> int:
    from embeddings import report_qa_home

    users = Users(report_qa_home())
    if args.users_command == "list":
        for user in users.all():
            print(_dumps({"name": user.name, "role": user.role}) if args.json else f"{user.name}  {user.role}")
    elif args.users_command == "remove":
        users.remove(args.name)
        print(f"removed user {args.name}")
    else:
        replaced = users.add(args.name, args.role, _password(args.password_stdin))
        print(f"{'updated' if replaced else 'added'} user {args.name} ({args.role})")
    return 0


def _password(from_stdin: bool) -> str:
    """A new password: the first line of standard input, or typed twice at a prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("password again: ") != password:
        raise UserError("the two passwords differ")
    return password


if __name__ == "__main__":
    sys.exit(main())
