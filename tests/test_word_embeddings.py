"""The word-embedding lookup outside the ONNX graph: the prepared graph neither holds nor maps the
matrix, the vectors are those of the graph that looks the rows up itself, and a missing or
damaged word-embedding file, or an export from before the split, is built again."""

from __future__ import annotations

import filecmp
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from embeddings import resolve_model
from embeddings.e5_q4 import MARKER_FILE
from embeddings.onnx_encoder import OnnxEncoder
from embeddings.prepared import ONNX_MODEL
from embeddings.word_embeddings import (
    TOKEN_IDS_INPUT,
    WORD_EMBEDDINGS,
    WORD_EMBEDDINGS_INPUT,
    WordEmbeddings,
    matrix_shape,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# The Cyrillic text needs the full tokenizer; the long one is truncated.
TEXTS = ["凤岗办事处有多少名员工？", "Сколько сотрудников в Фэнгане?", "", "长文本" * 400,
         "ＡＢＣ全角１２３　～ 𠀀ꙮ"]


@pytest.fixture(scope="module")
def folder() -> Path:
    return Path(resolve_model(None))


@pytest.fixture(scope="module")
def encoder(folder: Path) -> OnnxEncoder:
    return OnnxEncoder(str(folder))


def _linked_copy(folder: Path, target: Path, skip: set[str]) -> Path:
    """``folder`` with its files and folders (and the files of ``onnx/``) symlinked, except the names in ``skip``."""
    onnx_dir = Path(ONNX_MODEL).parent
    (target / onnx_dir).mkdir(parents=True)
    for source in [*folder.iterdir(), *(folder / onnx_dir).iterdir()]:
        name = source.relative_to(folder).as_posix()
        if name != onnx_dir.name and not source.name.startswith(".") and name not in skip:
            (target / name).symlink_to(source)
    return target


def _inline_export(folder: Path, target: Path) -> None:
    """The prepared export with the lookup put back in the graph: a Gather of the matrix by input_ids."""
    model = onnx.load(str(folder / ONNX_MODEL))
    matrix = np.fromfile(folder / WORD_EMBEDDINGS, dtype="<f4").reshape(matrix_shape(folder))
    graph = model.graph
    graph.initializer.append(numpy_helper.from_array(matrix, "word_embeddings.weight"))
    gather = helper.make_node("Gather", ["word_embeddings.weight", TOKEN_IDS_INPUT], [WORD_EMBEDDINGS_INPUT])
    graph.node.insert(0, gather)
    graph.input.remove(next(info for info in graph.input if info.name == WORD_EMBEDDINGS_INPUT))
    onnx.save_model(model, str(target / ONNX_MODEL), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=Path(ONNX_MODEL).name + "_data")


@pytest.fixture(scope="module")
def inline_folder(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the prepared folder whose graph looks the word embeddings up itself; without the
    preparation marker, so it is used as it is (with the full tokenizer)."""
    copy = _linked_copy(folder, tmp_path_factory.mktemp("inline") / folder.name,
                        {MARKER_FILE, ONNX_MODEL, ONNX_MODEL + "_data", WORD_EMBEDDINGS})
    _inline_export(folder, copy)
    return copy


def test_the_graph_holds_no_word_embeddings(folder, encoder):
    graph = onnx.load(str(folder / ONNX_MODEL), load_external_data=False).graph
    rows, dim = matrix_shape(folder)
    assert not [tensor.name for tensor in graph.initializer if rows in tensor.dims]
    inputs = {info.name: info.type.tensor_type for info in graph.input}
    assert list(inputs) == ["input_ids", "attention_mask", WORD_EMBEDDINGS_INPUT]
    assert inputs[WORD_EMBEDDINGS_INPUT].elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_param or d.dim_value for d in inputs[WORD_EMBEDDINGS_INPUT].shape.dim] == ["batch", "sequence", dim]
    assert (folder / WORD_EMBEDDINGS).stat().st_size == rows * dim * 4
    encoder.encode_passages(TEXTS)
    if Path("/proc/self/maps").exists():
        assert Path(WORD_EMBEDDINGS).name not in Path("/proc/self/maps").read_text()


def test_vectors_equal_the_lookup_in_the_graph(encoder, inline_folder):
    inline = OnnxEncoder(str(inline_folder))
    assert WORD_EMBEDDINGS_INPUT not in inline._input_names
    for batch_size in (1, 32):
        ours = encoder.encode_passages(TEXTS, batch_size=batch_size)
        np.testing.assert_allclose(ours, inline.encode_passages(TEXTS, batch_size=batch_size), rtol=0, atol=1e-6)
    np.testing.assert_allclose(encoder.encode_queries(TEXTS), inline.encode_queries(TEXTS), rtol=0, atol=1e-6)


def test_rows_are_read_by_id(tmp_path):
    matrix = np.arange(15, dtype="<f4").reshape(5, 3)
    matrix.tofile(tmp_path / "rows.f32")
    rows = WordEmbeddings(tmp_path / "rows.f32", (5, 3))
    ids = np.array([[4, 0, 4], [1, 1, 2]], dtype=np.int64)
    np.testing.assert_array_equal(rows.lookup(ids), matrix[ids])
    assert rows.lookup(np.zeros((1, 0), dtype=np.int64)).shape == (1, 0, 3)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for looked_up in pool.map(lambda i: rows.lookup(np.array([i % 5, 4 - i % 5])), range(200)):
            assert looked_up[0, 0] + looked_up[1, 0] == 12
    for outside in ([5], [-1]):
        with pytest.raises(ValueError):
            rows.lookup(np.array(outside))
    with pytest.raises(ValueError):
        WordEmbeddings(tmp_path / "rows.f32", (6, 3))


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_bad_word_embedding_file_is_built_again(folder, encoder, tmp_path, damage):
    copy = _linked_copy(folder, tmp_path / folder.name, {WORD_EMBEDDINGS})
    if damage == "truncated":
        (copy / WORD_EMBEDDINGS).write_bytes(b"\0" * 1536)
    repaired = OnnxEncoder(str(copy))
    assert filecmp.cmp(copy / WORD_EMBEDDINGS, folder / WORD_EMBEDDINGS, shallow=False)
    assert not [path.name for path in (copy / WORD_EMBEDDINGS).parent.iterdir() if path.name.startswith(".")]
    np.testing.assert_array_equal(repaired.encode_queries(TEXTS[:2]), encoder.encode_queries(TEXTS[:2]))


def test_an_export_from_before_the_split_is_exported_again(folder, encoder, inline_folder, tmp_path, capsys):
    copy = _linked_copy(inline_folder, tmp_path / folder.name, set())
    (copy / MARKER_FILE).symlink_to(folder / MARKER_FILE)
    stale = OnnxEncoder(str(copy))
    assert "predates the word-embedding file" in capsys.readouterr().err
    assert WORD_EMBEDDINGS_INPUT in stale._input_names
    assert not any(path.is_symlink() for path in (copy / WORD_EMBEDDINGS).parent.iterdir())
    assert os.path.getsize(copy / WORD_EMBEDDINGS) == os.path.getsize(folder / WORD_EMBEDDINGS)
    np.testing.assert_array_equal(stale.encode_queries(TEXTS[:2]), encoder.encode_queries(TEXTS[:2]))
