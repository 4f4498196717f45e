"""The default model through onnxruntime: the same vectors as sentence-transformers, no torch on
the query path, thread safety, and a damaged ONNX export that is exported again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from conftest import DEV_GOLD, ROOT
from embeddings import Encoder, load_encoder
from embeddings.onnx_encoder import OnnxEncoder
from embeddings.prepared import ONNX_MODEL, PREPARED_DEFAULT_DIR
from qa.documents.ingest import read_report
from qa.documents.passages import passage_text

QUERY_PATH_IMPORTS = """
import sys
from embeddings import load_encoder
encoder = load_encoder()
encoder.encode_query("凤岗办事处有多少名员工？")
encoder.encode_passages(["办事处现有员工12名。"])
print(type(encoder).__name__, sorted({"torch", "sentence_transformers", "transformers"} & set(sys.modules)))
"""

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def onnx_encoder() -> OnnxEncoder:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("REPORT_QA_BACKEND", raising=False)
        encoder = load_encoder()
    assert isinstance(encoder, OnnxEncoder)
    return encoder


@pytest.fixture(scope="module")
def st_encoder() -> Encoder:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REPORT_QA_BACKEND", "torch")
        encoder = load_encoder()
    assert isinstance(encoder, Encoder)
    return encoder


@pytest.fixture(scope="module")
def passages() -> list[str]:
    document = read_report(ROOT / "seeds")
    return [passage_text(document, paragraph) for paragraph in document.paragraphs]


@pytest.fixture(scope="module")
def questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_same_model_and_interface(onnx_encoder, st_encoder):
    for name in ("model_path", "model_id", "dim", "query_prompt", "passage_prompt"):
        assert getattr(onnx_encoder, name) == getattr(st_encoder, name), name
    assert onnx_encoder.dim == 384 and onnx_encoder.query_prompt == "query: "
    vector = onnx_encoder.encode_query("凤岗办事处有多少名员工？")
    assert vector.shape == (384,) and vector.dtype == np.float32 and not vector.flags.writeable
    assert onnx_encoder.encode_query("凤岗办事处有多少名员工？") is vector
    assert onnx_encoder.encode_queries([]).shape == (0, 384)
    assert onnx_encoder.encode_passages((), batch_size=4).dtype == np.float32


def test_parity_with_sentence_transformers(onnx_encoder, st_encoder, passages, questions):
    assert len(passages) == 57 and len(questions) >= 50
    passage_cos = np.sum(onnx_encoder.encode_passages(passages) * st_encoder.encode_passages(passages), axis=1)
    query_cos = np.sum(onnx_encoder.encode_queries(questions) * st_encoder.encode_queries(questions), axis=1)
    cosines = np.concatenate([passage_cos, query_cos])
    assert cosines.mean() >= 0.999, cosines.mean()
    assert cosines.min() >= 0.995, cosines.min()


def test_edge_texts_and_truncation_match(onnx_encoder, st_encoder):
    texts = ["", " leading space", "tab\tand\r\nnewlines", "ＡＢＣ全角１２３　～", "𠀀𠀁𠀂 ꙮꙮꙮ", "长文本" * 400, "short"]
    for batch_size in (1, 3, 32):
        ours = onnx_encoder.encode_passages(texts, batch_size=batch_size)
        np.testing.assert_allclose(np.sum(ours * st_encoder.encode_passages(texts), axis=1), 1.0, atol=1e-3)
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_threads_share_one_encoder(onnx_encoder, questions, passages):
    serial = onnx_encoder.encode_queries(questions)
    with ThreadPoolExecutor(max_workers=4) as pool:
        rows = list(pool.map(lambda q: onnx_encoder.encode_queries([q])[0], questions))
        batches = list(pool.map(lambda n: onnx_encoder.encode_passages(passages[:n], batch_size=n), [8, 8, 9, 10]))
    np.testing.assert_allclose(np.stack(rows), serial, atol=1e-5)
    for batch in batches:
        np.testing.assert_allclose(batch[:8], batches[0], atol=1e-5)


def test_query_path_imports_no_torch(onnx_encoder):
    env = {key: value for key, value in os.environ.items() if key != "REPORT_QA_BACKEND"}
    result = subprocess.run(
        [sys.executable, "-c", QUERY_PATH_IMPORTS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[0] == "OnnxEncoder []", result.stdout


def test_damaged_onnx_file_is_exported_again(onnx_encoder, tmp_path, capsys):
    """A copy of the prepared folder (files linked) whose ONNX export is garbage."""
    folder = tmp_path / "models" / PREPARED_DEFAULT_DIR
    (folder / ONNX_MODEL).parent.mkdir(parents=True)
    for source in Path(onnx_encoder.model_path).iterdir():
        if source.name != Path(ONNX_MODEL).parts[0] and not source.name.startswith("."):
            (folder / source.name).symlink_to(source)
    (folder / ONNX_MODEL).write_bytes(b"not an onnx model")
    repaired = OnnxEncoder(str(folder))
    assert "exporting" in capsys.readouterr().err
    assert repaired.model_id == onnx_encoder.model_id
    assert not [path.name for path in folder.iterdir() if path.name.startswith(".")]
    question = "凤岗办事处有多少名员工？"
    np.testing.assert_allclose(repaired.encode_query(question), onnx_encoder.encode_query(question), atol=1e-6)
