"""Sentence embeddings through onnxruntime: the query path without torch.

A sentence-transformers folder (Transformer -> mean Pooling -> Normalize) whose transformer is
exported to `onnx/model.onnx` (token embeddings; weights in `onnx/model.onnx_data`, which
onnxruntime maps instead of copying). For a folder report-qa prepared, the word-embedding lookup
is outside the graph: its rows are read from `onnx/word_embeddings.f32` and fed as an input (see
:mod:`embeddings.word_embeddings`). Tokenization is `tokenizers` on the folder's
`tokenizer.json`, trimmed to the scripts report-qa serves for a folder it prepared (see
:mod:`embeddings.trimmed_tokenizer`); pooling and normalization follow the folder's module configs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors
from tokenizers import Tokenizer
from tqdm import tqdm

from embeddings.models import ModelUnavailable, is_prepared_default, model_identity, prompts_for, resolve_model
from embeddings.onnx_export import ONNX_OUTPUT, export_onnx
from embeddings.prepared import ONNX_MODEL, read_or_rebuild
from embeddings.text_encoder import TextEncoder
from embeddings.trimmed_tokenizer import TokenIds, load_trimmed
from embeddings.word_embeddings import WORD_EMBEDDINGS_INPUT, load_word_embeddings

# onnxruntime on CPU: wide batches of long texts are slower per token than narrow ones (the 57
# seed passages, 62-273 tokens: 3.3 s CPU in runs of <= 256 tokens, 7.0 s in runs of 32 texts).
MAX_BATCH_TOKENS = 256
_LOAD_ERRORS = (
    ort_errors.Fail,
    ort_errors.InvalidArgument,
    ort_errors.InvalidGraph,
    ort_errors.InvalidProtobuf,
    ort_errors.NoSuchFile,
    ort_errors.RuntimeException,
)
_SUPPORTED_MODULES = (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"])


class StaleExport(Exception):
    """A prepared folder's ONNX export from before the word-embedding lookup left the graph."""


class OnnxEncoder(TextEncoder):
    """A sentence-transformers folder run by onnxruntime, with its family's prompts.

    Safe to share between threads: the tokenizers are configured once and never changed
    (padding happens in numpy), word embeddings are read with `os.pread`, and
    `InferenceSession.run` is thread-safe.
    """

    def __init__(self, model: str | None = None, home: Path | None = None) -> None:
        self.model_path = resolve_model(model, home)
        self.model_id = model_identity(self.model_path)
        self.query_prompt, self.passage_prompt = prompts_for(self.model_path)
        folder = self.folder = Path(self.model_path)
        self.dim = _mean_pooling_dimension(folder)
        self._session = _load_session(folder)  # first: exporting again replaces the tokenizer and embedding files
        self.tokens = _load_tokenizer(folder)
        self._pad_id = self.tokens.token_to_id(_read_json(folder / "tokenizer_config.json")["pad_token"])
        self._input_names = [node.name for node in self._session.get_inputs()]
        lookup_outside = WORD_EMBEDDINGS_INPUT in self._input_names  # a graph report-qa exported
        self.word_embeddings = load_word_embeddings(folder) if lookup_outside else None
        super().__init__()

    def _embed(self, texts: list[str], prompt: str, batch_size: int, progress: bool) -> np.ndarray:
        token_ids = self.tokens.encode([prompt + text for text in texts])
        lengths = [len(ids) for ids in token_ids]
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        with tqdm(total=len(texts), desc="Texts", disable=not progress) as bar:
            for batch in _batches(lengths, batch_size):
                vectors[batch] = self._embed_batch([token_ids[i] for i in batch])
                bar.update(len(batch))
        return vectors

    def _embed_batch(self, token_ids: list[np.ndarray]) -> np.ndarray:
        """Mean-pooled, L2-normalized vectors of token sequences (padded to the longest here)."""
        input_ids = np.full((len(token_ids), max(map(len, token_ids))), self._pad_id, dtype=np.int64)
        attention_mask = np.zeros_like(input_ids)
        for row, ids in enumerate(token_ids):
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
        features = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": np.zeros_like(input_ids)}
        if self.word_embeddings is not None:
            features[WORD_EMBEDDINGS_INPUT] = self.word_embeddings.lookup(input_ids)
        (tokens,) = self._session.run([ONNX_OUTPUT], {name: features[name] for name in self._input_names})
        mask = attention_mask.astype(np.float32)
        pooled = np.einsum("bsd,bs->bd", tokens, mask) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Text indices, longest first, in runs of at most `batch_size` texts and MAX_BATCH_TOKENS
    padded tokens (a longer text runs alone)."""
    batches: list[list[int]] = []
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        batch = batches[-1] if batches else None
        if batch and len(batch) < batch_size and (len(batch) + 1) * lengths[batch[0]] <= MAX_BATCH_TOKENS:
            batch.append(index)
        else:
            batches.append([index])
    return batches


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _mean_pooling_dimension(folder: Path) -> int:
    """The embedding dimension of a Transformer -> mean Pooling (prompt included) [-> Normalize] folder."""
    modules = _read_json(folder / "modules.json")
    kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
    if kinds not in _SUPPORTED_MODULES:
        raise ModelUnavailable(f"{folder}: modules {kinds} are not Transformer -> Pooling [-> Normalize]")
    pooling = _read_json(folder / modules[1]["path"] / "config.json")
    legacy_modes = sorted(key for key, on in pooling.items() if key.startswith("pooling_mode_") and on is True)
    mode = pooling.get("pooling_mode", legacy_modes)  # sentence-transformers 6 names it; older folders flag it
    if mode not in ("mean", ["mean"], ["pooling_mode_mean_tokens"]) or not pooling.get("include_prompt", True):
        raise ModelUnavailable(f"{folder}: pooling {mode} is not mean pooling over all tokens, prompt included")
    return int(pooling.get("embedding_dimension") or pooling["word_embedding_dimension"])


def _load_tokenizer(folder: Path) -> TokenIds:
    """`tokenizer.json` (trimmed for a folder report-qa prepared, the full one loaded only when a
    text needs it) truncating as sentence-transformers does, configured once; no padding."""
    if _read_json(folder / "sentence_bert_config.json").get("do_lower_case"):
        raise ModelUnavailable(f"{folder}: do_lower_case is not supported")
    max_length = _max_seq_length(folder)

    def configured(tokenizer: Tokenizer) -> Tokenizer:
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_length)
        return tokenizer

    def full() -> Tokenizer:
        return configured(Tokenizer.from_file(str(folder / "tokenizer.json")))

    if not is_prepared_default(str(folder)):
        return TokenIds(full)
    trimmed, original_ids = load_trimmed(folder)
    return TokenIds(full, configured(trimmed), original_ids)


def _max_seq_length(folder: Path) -> int:
    """sentence-transformers' rule: `max_seq_length` if declared, else the tokenizer's limit capped by the positions."""
    declared = _read_json(folder / "sentence_bert_config.json").get("max_seq_length")
    if declared:
        return int(declared)
    limit = _read_json(folder / "tokenizer_config.json")["model_max_length"]
    return int(min(limit, _read_json(folder / "config.json")["max_position_embeddings"]))


def _load_session(folder: Path) -> onnxruntime.InferenceSession:
    """The folder's ONNX session. A prepared default model whose ONNX file is missing, does not
    load or still holds the word embeddings is exported again (under the preparation lock,
    unless another process just did)."""
    if not is_prepared_default(str(folder)):
        try:
            return open_session(folder / ONNX_MODEL)
        except _LOAD_ERRORS as error:
            raise ModelUnavailable(f"{folder}: no usable {ONNX_MODEL} ({type(error).__name__})") from error

    def rebuild(error: Exception) -> None:
        export_onnx(folder, reason=str(error) if isinstance(error, StaleExport) else
                    f"{ONNX_MODEL} did not load ({type(error).__name__})")

    return read_or_rebuild(folder, lambda: _open_prepared_session(folder), rebuild, (*_LOAD_ERRORS, StaleExport))


def _open_prepared_session(folder: Path) -> onnxruntime.InferenceSession:
    """A prepared folder's ONNX session; ``StaleExport`` when its graph still holds the word-embedding lookup."""
    session = open_session(folder / ONNX_MODEL)
    if WORD_EMBEDDINGS_INPUT not in {node.name for node in session.get_inputs()}:
        raise StaleExport(f"{ONNX_MODEL} predates the word-embedding file")
    return session


def open_session(path: Path, threads: int | None = None) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session running each call on ``threads`` cores (default: every usable
    one), its workers not spinning while they wait."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or usable_cpus()
    options.inter_op_num_threads = 1
    # Workers that spin while waiting win little on an idle machine and lose much when other
    # processes hold the cores (2 cores, busy: 30-58 ms a query spinning, 22 ms not).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def usable_cpus() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
