"""Shared helpers: paths, percentiles, timers and subprocesses measured for peak RSS."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEV_GOLD = ROOT.parent / "shared" / "eval" / "dev.jsonl"
VENV_BIN = Path(sys.executable).parent


def dev_questions(path: Path = DEV_GOLD) -> list[str]:
    """The questions of a gold file (dev's by default), in order."""
    import json

    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def report_questions() -> list[str]:
    """Every distinct question about the shipped report: dev's, then those of the sets in
    ``tests/data`` (not the library set's, which asks about other reports)."""
    sets = [DEV_GOLD, *sorted(path for path in (ROOT / "tests" / "data").glob("*.jsonl")
                              if path.stem != "library_questions")]
    return list(dict.fromkeys(question for path in sets for question in dev_questions(path)))


def percentile_ms(samples_s: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of durations in seconds, in milliseconds."""
    return float(np.percentile(np.asarray(samples_s, dtype=np.float64), q) * 1000.0)


def time_each(function: Callable[[object], object], inputs: Sequence[object], repeat: int = 1,
              before: Callable[[], object] | None = None) -> list[float]:
    """Wall time of ``function(x)`` for every input, ``repeat`` passes; seconds.

    ``before`` (untimed) runs before each call, e.g. to empty a cache.
    """
    samples = []
    for _ in range(repeat):
        for item in inputs:
            if before is not None:
                before()
            start = time.perf_counter()
            function(item)
            samples.append(time.perf_counter() - start)
    return samples


@dataclass
class Run:
    """One measured subprocess."""

    returncode: int
    first_line_s: float | None  # launch -> first stdout line
    wall_s: float  # launch -> exit
    peak_rss_mb: float  # ru_maxrss of this child (and its waited-for children)
    stdout: str
    stderr: str


def run_measured(command: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 300,
                 cwd: Path = ROOT) -> Run:
    """Run ``command``; time its first stdout line and exit; its own peak RSS via ``wait4``.

    ``os.wait4`` gives the resource usage of exactly this child, so several measured children
    in one bench run do not mix (``RUSAGE_CHILDREN`` would give the maximum over all of them).
    """
    import tempfile
    import threading

    with tempfile.TemporaryFile() as err_file:
        start = time.perf_counter()
        process = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=err_file, stdin=subprocess.DEVNULL,
                                   env=env, cwd=cwd)
        first: list[float] = []
        chunks: list[bytes] = []

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                if not first:
                    first.append(time.perf_counter() - start)
                chunks.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        reader.join(10)
        err_file.seek(0)
        stderr = err_file.read().decode("utf-8", "replace")
    return Run(process.returncode, first[0] if first else None, wall, usage.ru_maxrss / 1024.0,
               b"".join(chunks).decode("utf-8", "replace"), stderr)


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for measured children: this one, offline hub, no analytics."""
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.update(extra)
    return env


def log(message: str) -> None:
    """Progress on stderr (stdout is the result)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
