"""Whole-process figures: cold start (fresh process to first answer) and peak RSS.

Every child runs with model and index already on disk (a first batch run makes sure of it and
warms the page cache); its peak RSS comes from ``os.wait4`` (see :func:`bench.common.run_measured`).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from bench.common import VENV_BIN, bench_env, log, run_measured

COLD_RUNS = 3
QUESTION = "凤岗办事处有多少名员工？"


def report_qa_command() -> list[str]:
    script = VENV_BIN / "report-qa"
    return [str(script)] if script.exists() else [sys.executable, "-m", "qa.cli"]


def check_output(run, what: str) -> None:
    if run.returncode != 0:
        raise RuntimeError(f"{what} failed with exit code {run.returncode}: {run.stderr.strip()[-2000:]}")
    for line in run.stdout.splitlines():
        json.loads(line)


def ours(questions_file: Path, runs: int = COLD_RUNS) -> dict[str, object]:
    env = bench_env()
    batch = run_measured([*report_qa_command(), "ask", "--json", "--file", str(questions_file)], env=env)
    check_output(batch, "report-qa ask --file")
    answered = len(batch.stdout.splitlines())
    cold = []
    for _ in range(runs):
        run = run_measured([*report_qa_command(), "ask", QUESTION, "--json"], env=env)
        check_output(run, "report-qa ask")
        cold.append(run)
    bm25 = []
    for _ in range(runs):
        run = run_measured([*report_qa_command(), "ask", QUESTION, "--json", "--retriever", "bm25"], env=env)
        check_output(run, "report-qa ask --retriever bm25")
        bm25.append(run)
    out = {
        "cold_start_s": round(statistics.median(r.first_line_s for r in cold), 3),
        "cold_start_exit_s": round(statistics.median(r.wall_s for r in cold), 3),
        "cold_start_bm25_s": round(statistics.median(r.first_line_s for r in bm25), 3),
        "rss_mb": round(max([batch.peak_rss_mb, *(r.peak_rss_mb for r in cold)]), 1),
        "rss_questions": answered,
        "batch_wall_s": round(batch.wall_s, 2),
    }
    log(f"cold start {out['cold_start_s']} s (bm25 only {out['cold_start_bm25_s']} s), peak RSS {out['rss_mb']} MB")
    return out


def naive(model_dir: str, state: Path, passages: list[str], questions_file: Path, runs: int = COLD_RUNS) -> dict[str, object]:
    env = bench_env()
    state.mkdir(parents=True, exist_ok=True)
    passages_file = state / "passages.json"
    passages_file.write_text(json.dumps(passages, ensure_ascii=False), encoding="utf-8")
    base = [sys.executable, "-m", "bench.naive"]
    build = run_measured([*base, "build", model_dir, str(state), str(passages_file)], env=env)
    check_output(build, "naive build")
    batch = run_measured([*base, "ask", model_dir, str(state), "--file", str(questions_file)], env=env)
    check_output(batch, "naive ask --file")
    cold = []
    for _ in range(runs):
        run = run_measured([*base, "ask", model_dir, str(state), QUESTION], env=env)
        check_output(run, "naive ask")
        cold.append(run)
    out = {
        "baseline_index_build_s": round(json.loads(build.stdout)["build_s"], 3),
        "baseline_cold_start_s": round(statistics.median(r.first_line_s for r in cold), 3),
        "baseline_rss_mb": round(max([batch.peak_rss_mb, *(r.peak_rss_mb for r in cold)]), 1),
    }
    log(f"naive: cold start {out['baseline_cold_start_s']} s, peak RSS {out['baseline_rss_mb']} MB")
    return out
