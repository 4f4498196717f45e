"""``python -m bench [--json]``: every contract figure of report-qa beside its baseline, in one run.

Run from the repo root with the project's venv, after ``make index`` (model and index cached;
if not, the first measured run prepares them and only that run pays for it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, bench_env, dev_questions, report_questions

GOALS = {
    # key: (description, test of the whole result)
    "warm_ratio": ("≤ 5× one encode (with the answer reader)", lambda r: r["warm_ratio"] <= 5.0),
    "cold_start_s": ("≤ 0.5× naive", lambda r: r["cold_start_s"] <= 0.5 * r["baseline_cold_start_s"]),
    "index_build_s": ("≤ 10 s", lambda r: r["index_build_s"] <= 10.0),
    "rss_mb": ("≤ 0.5× naive", lambda r: r["rss_mb"] <= 0.5 * r["baseline_rss_mb"]),
    "serve_ready_s": ("≤ naive cold start", lambda r: r["serve_ready_s"] <= r["baseline_cold_start_s"]),
    "first_english_ms": ("≤ 3× warm ask", lambda r: r["first_english_ms"] <= 3 * r["warm_ask_p50_ms"]),
    "scale_hybrid_p50_ms": ("≤ 50 ms", lambda r: r["scale_hybrid_p50_ms"] <= 50.0),
    "ann_recall_at_10": ("≥ 0.99", lambda r: r["ann_recall_at_10"] >= 0.99),
    "load_qps": ("≥ 28 q/s (20 clients)", lambda r: r["load_qps"] >= 28),
    "load_p50_ms": ("≤ 5× warm ask", lambda r: r["load_p50_ms"] <= 5 * r["warm_ask_p50_ms"]),
    "load_p95_ms": ("≤ 10× warm ask", lambda r: r["load_p95_ms"] <= 10 * r["warm_ask_p50_ms"]),
    "load_errors": ("0", lambda r: r["load_errors"] == 0),
    "library_add_one_s": ("≤ 3× index build", lambda r: r["library_add_one_s"] <= 3 * r["index_build_s"]),
    "library_warm_start_s": ("≤ 1.5× cold start", lambda r: r["library_warm_start_s"] <= 1.5 * r["cold_start_s"]),
    "library_warm_ask_p50_ms": ("≤ 2× warm ask", lambda r: r["library_warm_ask_p50_ms"] <= 2 * r["warm_ask_p50_ms"]),
}
# (label, our key, baseline key, unit)
ROWS = [
    ("cold start, fresh `ask` to first answer", "cold_start_s", "baseline_cold_start_s", "s"),
    ("cold start, --retriever bm25", "cold_start_bm25_s", None, "s"),
    ("index build (57 passages, model loaded)", "index_build_s", "baseline_index_build_s", "s"),
    ("warm ask p50 (dev, in-process)", "warm_ask_p50_ms", "baseline_warm_ask_p50_ms", "ms"),
    ("warm ask p95", "warm_ask_p95_ms", None, "ms"),
    ("encode one query p50", "encode_p50_ms", None, "ms"),
    ("warm ratio (ask / encode)", "warm_ratio", None, "×"),
    ("answer reader's share of a warm ask, p50", "reader_ms", None, "ms"),
    ("peak RSS of an answering process", "rss_mb", "baseline_rss_mb", "MiB"),
    ("serve: start until page + first /ask answer", "serve_ready_s", "baseline_cold_start_s", "s"),
    ("serve: peak RSS", "serve_rss_mb", None, "MiB"),
    ("serve: first English question (REST API)", "first_english_ms", None, "ms"),
    ("serve: new question round trip (REST API)", "serve_round_trip_ms", None, "ms"),
    ("serve: later new English questions' round trip", "serve_english_round_trip_ms", "first_english_ms", "ms"),
    ("load: 20 clients x 25 new questions, throughput", "load_qps", "baseline_load_qps", "q/s"),
    ("load: latency p50", "load_p50_ms", "baseline_load_p50_ms", "ms"),
    ("load: latency p95", "load_p95_ms", "baseline_load_p95_ms", "ms"),
    ("load: failed questions", "load_errors", "baseline_load_errors", ""),
    ("load floor (Gradio answering at no cost): throughput", "floor_load_qps", "load_qps", "q/s"),
    ("load floor: latency p50", "floor_load_p50_ms", "load_p50_ms", "ms"),
    ("load floor: latency p95", "floor_load_p95_ms", "load_p95_ms", "ms"),
    ("BM25 scoring p50, report", "bm25_p50_ms", "baseline_bm25_p50_ms", "ms"),
    ("100k: BM25 top-10 p50", "scale_bm25_p50_ms", "baseline_scale_bm25_p50_ms", "ms"),
    ("100k: dense exact (IndexFlatIP) p50", "scale_dense_p50_ms", "baseline_scale_dense_p50_ms", "ms"),
    ("100k: dense ANN (HNSW) p50", "scale_ann_p50_ms", None, "ms"),
    ("100k: ANN recall@10 vs exact", "ann_recall_at_10", None, ""),
    ("100k: hybrid top-10 p50", "scale_hybrid_p50_ms", "baseline_scale_hybrid_p50_ms", "ms"),
    ("100k: hybrid incl. query encode p50", "scale_hybrid_with_encode_p50_ms", None, "ms"),
    ("100k on --store: insert", "store_insert_per_s", None, "paragraphs/s"),
    ("100k on --store: hybrid top-10 p50 (vs local)", "store_hybrid_p50_ms", "scale_hybrid_p50_ms", "ms"),
    ("100k on --store: hybrid top-10 p95", "store_hybrid_p95_ms", None, "ms"),
    ("100k on --store: dense recall@10 vs exact (vs local HNSW)", "store_recall_at_10", "ann_recall_at_10", ""),
    ("100k on --store: agreement@10 with local hybrid", "store_agreement_at_10", None, ""),
    ("library of 200: build from scratch", "library_build_s", None, "s"),
    ("library of 200: one report added", "library_add_one_s", None, "s"),
    ("library of 200: fresh `ask`, nothing changed", "library_warm_start_s", None, "s"),
    ("library of 200: warm ask p50", "library_warm_ask_p50_ms", None, "ms"),
    ("OCR of one scanned page (200 dpi)", "ocr_page_s", None, "s"),
    ("page view: render one page (144 dpi PNG)", "page_render_ms", None, "ms"),
]
NOTES = [
    "baselines: rank-bm25 BM25Okapi + jieba.lcut_for_search for lexical; the naive pipeline "
    "(sentence-transformers encode -> IndexFlatIP -> top-k, no BM25) for cold start, warm ask and RSS; "
    "at 100k the naive hybrid scores all paragraphs both ways (rank-bm25 + numpy dot) and fuses them all.",
    "100k corpus: paragraphs of 3-7 report sentences drawn with a fixed seed. Its vectors are a STAND-IN: "
    "each distinct report sentence is encoded once with the real encoder (cached under $REPORT_QA_HOME/bench/) "
    "and a paragraph's vector is the L2-normalized mean of its sentences' vectors. Query vectors are real.",
    "100k latencies exclude query encoding (see encode p50) except the 'incl. query encode' row; "
    "recall@10 is tie-aware (a result counts if it scores at least the exact 10th).",
    "other processes on this machine skew every latency; see load_avg in the JSON.",
    "store_* (--store URI): the 100k corpus written to that store and searched there, the query path fusing "
    "its BM25 and dense hits locally (see bench/store.py). Milvus Lite is not a performance target (pure Python, "
    "in this process); a Milvus server is: measure one with --store http://HOST:19530.",
]


def _fmt(value: object, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def table(result: dict) -> str:
    header = ("figure", "ours", "baseline", "ours/base", "goal", "met?")
    lines = [header]
    for label, key, base_key, unit in ROWS:
        ours, base = result.get(key), result.get(base_key) if base_key else None
        ratio = f"{ours / base:.3f}" if isinstance(ours, (int, float)) and isinstance(base, (int, float)) and base else "—"
        goal, test = GOALS.get(key, ("", None))
        met = "—" if test is None or ours is None else ("yes" if _met(test, result) else "NO")
        lines.append((label, _fmt(ours, unit), _fmt(base, unit), ratio, goal, met))
    widths = [max(len(str(row[i])) for row in lines) for i in range(len(header))]
    out = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    extra = {k: result[k] for k in ("scale_paragraphs", "scale_ann", "scale_ann_ef_search", "scale_ann_build_s",
                                    "scale_bm25_index_s", "baseline_scale_bm25_index_s", "scale_hybrid_agreement_at_10",
                                    "store_uri", "store_cached", "store_bm25_p50_ms", "store_dense_p50_ms",
                                    "store_rrf_p50_ms", "store_rrf_agreement_at_10", "store_weighted_ranker_p50_ms",
                                    "store_weighted_ranker_agreement_at_10", "store_queries", "ocr_pages", "ocr_paragraphs",
                                    "pages_note", "load_avg",
                                    "bench_total_s") if k in result}
    out.append("")
    out += [f"{k}: {v}" for k, v in extra.items()]
    out += ["", *[f"note: {n}" for n in NOTES]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object with every contract key")
    parser.add_argument("--scale-paragraphs", type=int, default=100_000)
    parser.add_argument("--no-scale", action="store_true", help="skip the 100k run (development only)")
    parser.add_argument("--no-library", action="store_true", help="skip the 200-report library (development only)")
    parser.add_argument("--no-load", action="store_true", help="skip the 20-client load run (development only)")
    parser.add_argument("--no-pages", action="store_true", help="skip OCR and page rendering (development only)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--store", metavar="URI", help="also run the scale figures on this store (milvus:PATH.db, "
                                                       "http://HOST:19530): store_* keys")
    parser.add_argument("--table-from", type=Path, metavar="JSON", help="only print the table of a saved --json result")
    args = parser.parse_args(argv)
    if args.table_from:
        print(table(json.loads(args.table_from.read_text(encoding="utf-8"))))
        return 0
    os.environ.update({k: v for k, v in bench_env().items() if k not in os.environ})
    os.chdir(ROOT)
    started = time.perf_counter()
    load_before = os.getloadavg()

    from embeddings import report_qa_home, resolve_model

    from bench import library, pages, scale, serve, startup, warm
    from qa import Assistant

    questions = dev_questions()
    home = report_qa_home()
    result: dict[str, object] = {"questions": len(questions)}
    with tempfile.TemporaryDirectory(prefix="report-qa-bench-") as scratch:
        questions_file = Path(scratch) / "questions.txt"
        questions_file.write_text("\n".join(questions) + "\n", encoding="utf-8")

        # Whole processes first, while this process is still small.
        result.update(startup.ours(questions_file, runs=args.cold_runs))
        result.update(serve.run_serve(questions))
        if not args.no_load:
            result.update(serve.run_load(report_questions(), Path(scratch)))
        assistant = Assistant()  # hybrid, default model and home (cached by now)
        passages = assistant.library.prepared[0].passages
        model_dir = resolve_model(None)
        result.update(startup.naive(model_dir, home / "bench" / "naive", passages, questions_file, runs=args.cold_runs))

        # In-process.
        result.update(warm.run_warm(assistant, questions))
        result.update(warm.run_index_build(assistant))
        result.update(warm.run_bm25_warm(Assistant(retriever="bm25"), questions))
        result.update(_naive_warm(model_dir, home / "bench" / "naive", questions))
        if not args.no_library:
            result.update(library.run_library(assistant, questions, home, Path(scratch)))
        if not args.no_pages:
            result.update(pages.run_pages(assistant.library.documents[0]))
        if not args.no_scale:
            result.update(scale.run_scale(assistant.library.documents[0], assistant.retriever.encoder, questions, home / "bench",
                                          paragraphs=args.scale_paragraphs))
        if args.store:
            from bench.store import run_store

            result.update(run_store(args.store, assistant.library.documents[0], assistant.retriever.encoder, questions,
                                    home, home / "bench", paragraphs=args.scale_paragraphs))
    result["model"] = str(assistant.retriever.encoder.model_id)
    result["load_avg"] = [round(x, 2) for x in (*load_before, *os.getloadavg())][::1]
    result["bench_total_s"] = round(time.perf_counter() - started, 1)
    result["goals_met"] = {key: _met(test, result) for key, (_, test) in GOALS.items() if key in result}
    result = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in result.items()}
    print(json.dumps(result, ensure_ascii=False) if args.json else table(result))
    return 0


def _met(test, result: dict) -> bool:
    try:
        return bool(test(result))
    except KeyError:  # a figure it compares with was not measured in this run
        return False


def _naive_warm(model_dir: str, state: Path, questions: list[str]) -> dict[str, object]:
    """The naive pipeline's warm ask in this process: encode with sentence-transformers, IndexFlatIP."""
    import faiss
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from bench.common import percentile_ms, time_each

    model = SentenceTransformer(model_dir, device="cpu", local_files_only=True)
    vectors = np.load(state / "naive_vectors.npy")
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)

    def ask(question: str) -> object:
        query = model.encode([f"query: {question}"], normalize_embeddings=True).astype(np.float32)
        return index.search(query, 3)

    for question in questions[:5]:
        ask(question)
    samples = time_each(ask, questions, repeat=2)
    return {"baseline_warm_ask_p50_ms": round(percentile_ms(samples, 50), 2)}


if __name__ == "__main__":
    sys.exit(main())
