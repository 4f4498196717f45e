"""The library figures: 200 reports made from the seed's and the test library's paragraphs.

- ``library_build_s``: every report read, tokenized and encoded from scratch (an empty state
  folder; the model already loaded), in this process.
- ``library_add_one_s``: one new report dropped into the folder, the library opened again
  (only that report is read and encoded).
- ``library_warm_start_s``: a fresh ``report-qa ask --report FOLDER`` process to its first
  answer, nothing changed since the last start (nothing re-encoded).
- ``library_warm_ask_p50_ms``: warm asks over the whole library, in this process, after one
  untimed pass over the questions (as :func:`bench.warm.run_warm`).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import ROOT, bench_env, log, percentile_ms, run_measured, time_each
from bench.startup import QUESTION, check_output, report_qa_command
from bench.warm import question_cache_clearer

REPORTS = 200
SECTIONS = 4
PARAGRAPHS_PER_SECTION = 5
SEED = 20261126
LIBRARY_TEXTS = ROOT / "tests" / "data" / "library"


def paragraph_pool(documents) -> tuple[list[str], list[str]]:
    """(section headings, paragraphs) of the given documents."""
    headings = [s.heading for d in documents for s in d.sections]
    paragraphs = [p.text for d in documents for p in d.paragraphs]
    return headings, paragraphs


def write_library(folder: Path, headings: Sequence[str], paragraphs: Sequence[str], count: int = REPORTS,
                  start: int = 0) -> list[Path]:
    """``count`` plain-text reports of 4 sections × 5 paragraphs drawn with a fixed seed."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number in range(start, start + count):
        draw = random.Random(SEED + number)
        lines = [f"质检系统专题报道合订本（第{number + 1}辑）"]
        for _ in range(SECTIONS):
            lines.append(draw.choice(headings))
            lines += draw.sample(list(paragraphs), PARAGRAPHS_PER_SECTION)
        path = folder / f"report_{number + 1:03d}.txt"
        path.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written


def run_library(assistant, questions: Sequence[str], home: Path, scratch: Path, runs: int = 3) -> dict[str, object]:
    """Build, add one, warm start and warm ask over a 200-report library (see the module doc)."""
    from qa import Assistant
    from qa.documents.library import read_library

    sources = read_library(LIBRARY_TEXTS, home).documents + assistant.library.documents
    headings, paragraphs = paragraph_pool(sources)
    folder = scratch / "library"
    write_library(folder, headings, paragraphs)
    fresh = scratch / "home"
    fresh.mkdir()
    (fresh / "models").symlink_to(home / "models", target_is_directory=True)
    quiet = lambda message: None  # noqa: E731

    start = time.perf_counter()
    library = Assistant(folder, home=fresh, encoder=assistant.encoder, log=quiet)
    out: dict[str, object] = {"library_build_s": round(time.perf_counter() - start, 2)}
    out["library_reports"] = len(library.library.documents)
    out["library_paragraphs"] = len(library.library)
    log(f"library: {out['library_reports']} reports, {out['library_paragraphs']} paragraphs built in "
        f"{out['library_build_s']} s")

    write_library(folder, headings, paragraphs, count=1, start=REPORTS)
    start = time.perf_counter()
    library = Assistant(folder, home=fresh, encoder=assistant.encoder, log=quiet)
    out["library_add_one_s"] = round(time.perf_counter() - start, 2)

    env = bench_env(REPORT_QA_HOME=str(fresh))
    warm = []
    for _ in range(runs):
        run = run_measured([*report_qa_command(), "ask", QUESTION, "--json", "--report", str(folder)], env=env)
        check_output(run, "report-qa ask --report LIBRARY")
        if run.stderr.strip():
            raise RuntimeError(f"a warm start re-did work: {run.stderr.strip()[-500:]}")
        warm.append(run)
    out["library_warm_start_s"] = round(statistics.median(r.first_line_s for r in warm), 3)
    out["library_rss_mb"] = round(max(r.peak_rss_mb for r in warm), 1)

    for question in questions:  # warm as in bench.warm: the passages they read are read once
        library.ask(question)
    asks = time_each(library.ask, questions, repeat=2, before=question_cache_clearer(library))
    out["library_warm_ask_p50_ms"] = round(percentile_ms(asks, 50), 2)
    log(f"library: add one {out['library_add_one_s']} s, warm start {out['library_warm_start_s']} s, "
        f"warm ask p50 {out['library_warm_ask_p50_ms']} ms")
    return out
