"""The server's figures: how long until it is ready, its memory, and its first English question.

``serve_ready_s`` runs from launching ``report-qa serve`` until the page has loaded and ``/ask``
has answered once. ``first_english_ms`` is the first English question the server is asked,
through the API (so it includes one HTTP round trip: ``serve_round_trip_ms`` is the median of
warm questions through the same client). ``serve_rss_mb`` is the server's peak RSS (VmHWM).
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from bench.common import ROOT, bench_env, log
from bench.startup import QUESTION, report_qa_command

ENGLISH_QUESTION = "How many employees does the Fenggang office have?"
READY_TIMEOUT_S = 300


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


def run_serve(questions: Sequence[str]) -> dict[str, object]:
    """Start a real server, wait until it serves, ask it, measure it, stop it."""
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    start = time.perf_counter()
    server = subprocess.Popen([*report_qa_command(), "serve", "--port", str(port)], cwd=ROOT, env=bench_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        while not _page_loads(url):
            if server.poll() is not None:
                raise RuntimeError(f"report-qa serve exited with code {server.returncode}")
            if time.perf_counter() - start > READY_TIMEOUT_S:
                raise RuntimeError("report-qa serve did not come up")
            time.sleep(0.05)
        client = Client(url, verbose=False, analytics_enabled=False)
        client.predict(QUESTION, api_name="/ask")
        out: dict[str, object] = {"serve_ready_s": round(time.perf_counter() - start, 2)}
        before = time.perf_counter()
        client.predict(ENGLISH_QUESTION, api_name="/ask")
        out["first_english_ms"] = round((time.perf_counter() - before) * 1000, 1)
        trips = []
        for question in questions[:20]:
            before = time.perf_counter()
            client.predict(question, api_name="/ask")
            trips.append(time.perf_counter() - before)
        out["serve_round_trip_ms"] = round(statistics.median(trips) * 1000, 1)
        out["serve_rss_mb"] = round(peak_rss_mb(server.pid), 1)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    log(f"serve: ready in {out['serve_ready_s']} s, first English question {out['first_english_ms']} ms "
        f"(warm round trip {out['serve_round_trip_ms']} ms), peak RSS {out['serve_rss_mb']} MB")
    return out
