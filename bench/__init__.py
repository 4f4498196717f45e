"""Benchmarks for report-qa: ``python -m bench [--json]`` from the repo root (see contract.md).
May import any of ``qa``, ``embeddings`` and ``ui``, internals included (it measures them); nothing imports ``bench``.

Modules: :mod:`bench.common` (timing, subprocess peak RSS), :mod:`bench.corpus` (the synthetic
100,000-paragraph corpus), :mod:`bench.startup` (cold start, RSS), :mod:`bench.warm` (index
build, warm ask, encode), :mod:`bench.scale` (BM25 / exact / ANN / hybrid at 100k),
:mod:`bench.naive` (the naive baseline pipeline, also run as its own process), :mod:`bench.pages`
(OCR of a scanned page, rendering a page for the page view),
:mod:`bench.imports` (where cold start goes: import-time options).
"""
