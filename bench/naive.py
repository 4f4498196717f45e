"""The naive baseline pipeline, run as its own process.

sentence-transformers encodes the passages once (``build``: vectors saved as ``.npy`` with the
passages as JSON); ``ask`` imports sentence-transformers and FAISS, loads the same model folder,
puts the vectors into an ``IndexFlatIP``, encodes each question and prints the top-k passages as
one JSON line per question. No BM25, no answer logic. This module imports nothing from ``qa``.

    python -m bench.naive build MODEL_DIR STATE_DIR PASSAGES.json
    python -m bench.naive ask MODEL_DIR STATE_DIR (QUESTION | --file FILE) [--top-k K]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _model(model_dir: str):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_dir, device="cpu", local_files_only=True)


def build(model_dir: str, state: Path, passages_file: Path) -> dict:
    import numpy as np

    passages = json.loads(passages_file.read_text(encoding="utf-8"))
    model = _model(model_dir)
    model.encode(["passage: warm-up"], normalize_embeddings=True)
    start = time.perf_counter()
    vectors = model.encode([f"passage: {p}" for p in passages], batch_size=32, normalize_embeddings=True)
    encode_s = time.perf_counter() - start
    state.mkdir(parents=True, exist_ok=True)
    np.save(state / "naive_vectors.npy", np.asarray(vectors, dtype=np.float32))
    (state / "naive_passages.json").write_text(json.dumps(passages, ensure_ascii=False), encoding="utf-8")
    return {"build_s": encode_s, "count": len(passages)}


def ask(model_dir: str, state: Path, questions: list[str], top_k: int) -> None:
    import faiss
    import numpy as np

    model = _model(model_dir)
    passages = json.loads((state / "naive_passages.json").read_text(encoding="utf-8"))
    vectors = np.load(state / "naive_vectors.npy")
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    for question in questions:
        query = model.encode([f"query: {question}"], normalize_embeddings=True).astype(np.float32)
        scores, ids = index.search(query, top_k)
        print(json.dumps({"question": question, "passages": [
            {"rank": r, "score": float(s), "text": passages[i]} for r, (s, i) in enumerate(zip(scores[0], ids[0]), 1)
        ]}, ensure_ascii=False), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.naive")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("model_dir")
    b.add_argument("state", type=Path)
    b.add_argument("passages", type=Path)
    a = sub.add_parser("ask")
    a.add_argument("model_dir")
    a.add_argument("state", type=Path)
    a.add_argument("question", nargs="?")
    a.add_argument("--file", type=Path)
    a.add_argument("--top-k", type=int, default=3)
    args = parser.parse_args(argv)
    if args.command == "build":
        print(json.dumps(build(args.model_dir, args.state, args.passages)))
        return 0
    questions = args.file.read_text(encoding="utf-8").splitlines() if args.file else [args.question]
    ask(args.model_dir, args.state, questions, args.top_k)
    return 0


if __name__ == "__main__":
    sys.exit(main())
