"""The server's figures, each against a real ``report-qa serve`` process.

- ``serve_ready_s``: from launching the server until the page has loaded and ``/ask`` has
  answered once; ``serve_rss_mb``: its peak RSS (VmHWM) after the questions below.
- ``first_english_ms``: the first English question the server is asked, one HTTP exchange of
  Gradio's REST API (see :func:`ask_over_http`); ``serve_round_trip_ms`` is the median of new
  Chinese questions asked the same way after it, ``serve_english_round_trip_ms`` that of new
  English questions after those.
- ``load_*``: ``LOAD_CLIENTS`` clients, each a thread speaking Gradio's REST API, ask
  ``LOAD_QUESTIONS`` questions each, all at once, no question twice (the report's question sets
  hold more than the 500 asked: every one is new to the server's caches); ``baseline_load_*`` is the same load against
  the old single-slot setting (``--workers 1``), ``floor_load_*`` against a Gradio server that
  answers at no cost (:mod:`bench.floor_app`): no answering code can beat its latencies here.
  (gradio_client is not used for the load: its own threads cost the 2-core machine 3.5x the
  server's CPU, so it measured the clients.)
"""

from __future__ import annotations

import contextlib
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench.common import ROOT, bench_env, log, percentile_ms
from bench.startup import QUESTION, report_qa_command

ENGLISH_QUESTION = "How many employees does the Fenggang office have?"
# asked after it, for the round trip of English questions the server has warmed up for
LATER_ENGLISH_QUESTIONS = (
    "When was the Party branch of the Xiamen bureau founded?",
    "How many Party members does the sixth branch have?",
    "Which country was the frozen octopus exported to?",
    "Who is the secretary of the Party branch?",
    "What did the inspection and quarantine bureau do for exporters?",
)
READY_TIMEOUT_S = 300
LOAD_CLIENTS = 20
LOAD_QUESTIONS = 25
LOAD_TIMEOUT_S = 600


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a running process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmHWM for process {pid}")


def _page_loads(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and b"<html" in response.read(4096).lower()
    except OSError:
        return False


@contextlib.contextmanager
def running_server(*options: str, command: Sequence[str] | None = None) -> Iterator[tuple[str, subprocess.Popen, float]]:
    """(url, process, seconds until the page loaded and ``/ask`` answered) of a fresh
    ``report-qa serve`` with ``options``, or of ``command`` followed by the port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    start = time.perf_counter()
    argv = [*command, str(port)] if command else [*report_qa_command(), "serve", "--port", str(port), *options]
    server = subprocess.Popen(argv, cwd=ROOT, env=bench_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL)
    try:
        while not _page_loads(url):
            if server.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with code {server.returncode}")
            if time.perf_counter() - start > READY_TIMEOUT_S:
                raise RuntimeError(f"{argv[0]} did not come up")
            time.sleep(0.05)
        ask_over_http(url, QUESTION)
        yield url, server, time.perf_counter() - start
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def run_serve(questions: Sequence[str]) -> dict[str, object]:
    """Readiness, memory and the first English question of a fresh server."""
    with running_server() as (url, server, ready_s):
        out: dict[str, object] = {"serve_ready_s": round(ready_s, 2)}
        before = time.perf_counter()
        ask_over_http(url, ENGLISH_QUESTION)
        out["first_english_ms"] = round((time.perf_counter() - before) * 1000, 1)
        trips = []
        for question in questions[:20]:
            before = time.perf_counter()
            ask_over_http(url, question)
            trips.append(time.perf_counter() - before)
        out["serve_round_trip_ms"] = round(statistics.median(trips) * 1000, 1)
        english = []
        for question in LATER_ENGLISH_QUESTIONS:
            before = time.perf_counter()
            ask_over_http(url, question)
            english.append(time.perf_counter() - before)
        out["serve_english_round_trip_ms"] = round(statistics.median(english) * 1000, 1)
        out["serve_rss_mb"] = round(peak_rss_mb(server.pid), 1)
    log(f"serve: ready in {out['serve_ready_s']} s, first English question {out['first_english_ms']} ms "
        f"(later ones {out['serve_english_round_trip_ms']} ms, Chinese ones {out['serve_round_trip_ms']} ms), "
        f"peak RSS {out['serve_rss_mb']} MB")
    return out


def ask_over_http(url: str, question: str) -> dict:
    """One question through Gradio's REST API (``POST /gradio_api/call/ask``, then its event stream):
    what any HTTP client does, without gradio_client's own threads and bookkeeping."""
    request = urllib.request.Request(
        f"{url}gradio_api/call/ask", data=json.dumps({"data": [question, []]}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=LOAD_TIMEOUT_S) as response:
        event = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/ask/{event}", timeout=LOAD_TIMEOUT_S) as response:
        stream = response.read().decode("utf-8")
    kind, _, data = stream.partition("\ndata: ")
    if kind.strip() != "event: complete":
        raise ValueError(f"not an answer: {stream[:200]}")
    return json.loads(data)[0]


def load(url: str, questions: Sequence[str], clients: int = LOAD_CLIENTS, each: int = LOAD_QUESTIONS) -> dict[str, float]:
    """``clients`` threads each ask ``each`` questions (a different rotation of ``questions``) at once,
    each question one HTTP exchange (see :func:`ask_over_http`)."""
    latencies: list[float] = []
    errors: list[str] = []
    barrier = threading.Barrier(clients, timeout=LOAD_TIMEOUT_S)
    lock = threading.Lock()

    def run(number: int) -> None:
        mine = [questions[(number * each + i) % len(questions)] for i in range(each)]
        barrier.wait()
        for question in mine:
            before = time.perf_counter()
            try:
                answer = ask_over_http(url, question)
                if "passages" not in answer or "error" in answer:
                    raise ValueError(f"not an answer: {str(answer)[:200]}")
            except Exception as error:  # every failed question counts, whatever the reason
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                continue
            with lock:
                latencies.append(time.perf_counter() - before)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOAD_TIMEOUT_S)
    wall = time.perf_counter() - started
    if errors:
        log(f"load: {len(errors)} failed questions, the first: {errors[0][:300]}")
    return {
        "clients": clients,
        "qps": round(len(latencies) / wall, 2),
        "p50_ms": round(percentile_ms(latencies, 50), 1) if latencies else None,
        "p95_ms": round(percentile_ms(latencies, 95), 1) if latencies else None,
        "errors": clients * each - len(latencies),
    }


def run_load(questions: Sequence[str], scratch: Path) -> dict[str, object]:
    """The load run against the default server, against the single-slot baseline, and against the
    floor: a Gradio server answering with one fixed real answer (see :mod:`bench.floor_app`)."""
    answer_file = scratch / "answer.json"
    with running_server() as (url, _, _):
        answer_file.write_text(json.dumps(ask_over_http(url, QUESTION), ensure_ascii=False), encoding="utf-8")
        out = _named("load", load(url, questions))
    with running_server("--workers", "1") as (url, _, _):
        out.update(_named("baseline_load", load(url, questions)))
    with running_server(command=[sys.executable, "-m", "bench.floor_app", str(answer_file)]) as (url, _, _):
        out.update(_named("floor_load", load(url, questions)))
    return out


def _named(prefix: str, figures: dict[str, float]) -> dict[str, object]:
    """``figures`` logged, with their keys prefixed (``load_qps``)."""
    log(f"{prefix}: {figures}")
    return {f"{prefix}_{name}": value for name, value in figures.items()}
