"""The encoder's word embeddings outside its ONNX graph, read row by row with positioned reads.

XLM-R's word-embedding matrix (250,037 x 384 fp32, 366 MiB) is most of the exported weights.
Left in the graph, onnxruntime maps it and its Gather faults in each new token's page plus the
kernel's fault-around and readahead neighbours: the process's RSS grows with every new token
(+86 MiB over the 55 dev questions). Here the matrix is a raw little-endian float32 file beside
the export (row ``i``: token ``i``); the rows a batch needs are read with ``os.pread`` (through
the page cache, nothing mapped) and fed to the graph as its ``word_embeddings`` input, which
replaces the Gather (:func:`detach_word_embeddings`, applied at export).
"""

from __future__ import annotations

import json
import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embeddings.home import atomic_write
from embeddings.prepared import read_or_rebuild

if TYPE_CHECKING:
    import onnx

WORD_EMBEDDINGS = "onnx/word_embeddings.f32"
WORD_EMBEDDINGS_INPUT = "word_embeddings"
TOKEN_IDS_INPUT = "input_ids"
SOURCE_TENSOR = "embeddings.word_embeddings.weight"  # in the folder's model.safetensors
ROW_DTYPE = np.dtype("<f4")


def matrix_shape(folder: Path) -> tuple[int, int]:
    """(vocabulary size, hidden size) of a transformer folder, from its ``config.json``."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return int(config["vocab_size"]), int(config["hidden_size"])


def detach_word_embeddings(model: onnx.ModelProto, shape: tuple[int, int]) -> None:
    """Replace, in place, the Gather of the ``shape`` initializer by ``input_ids`` with a graph
    input ``word_embeddings`` (float32, [batch, sequence, hidden]) and drop that initializer."""
    from onnx import TensorProto, helper

    graph = model.graph
    matrices = {tensor.name: tensor for tensor in graph.initializer if tuple(tensor.dims) == shape}
    gathers = [node for node in graph.node
               if node.op_type == "Gather" and node.input[0] in matrices and node.input[1] == TOKEN_IDS_INPUT]
    if len(gathers) != 1:
        raise ValueError(f"expected one Gather of a {shape} initializer by {TOKEN_IDS_INPUT}, found {len(gathers)}")
    (gather,) = gathers
    matrix, output = gather.input[0], gather.output[0]
    if any(matrix in node.input for node in graph.node if node is not gather):
        raise ValueError(f"{matrix} is used beyond the word-embedding lookup")
    graph.node.remove(gather)
    graph.initializer.remove(matrices[matrix])
    for node in graph.node:
        for position, name in enumerate(node.input):
            if name == output:
                node.input[position] = WORD_EMBEDDINGS_INPUT
    for info in [info for info in graph.value_info if info.name == output]:
        graph.value_info.remove(info)
    (token_ids,) = [info for info in graph.input if info.name == TOKEN_IDS_INPUT]
    axes = [dim.dim_param or dim.dim_value for dim in token_ids.type.tensor_type.shape.dim]
    graph.input.append(helper.make_tensor_value_info(WORD_EMBEDDINGS_INPUT, TensorProto.FLOAT, [*axes, shape[1]]))


def write_word_embeddings(source: Path, target: Path, shape: tuple[int, int]) -> None:
    """Save the word-embedding matrix of the safetensors file ``source`` as raw rows at ``target``."""
    from safetensors import safe_open

    with safe_open(str(source), framework="numpy") as weights:
        matrix = weights.get_tensor(SOURCE_TENSOR)
    if matrix.shape != shape:
        raise ValueError(f"{source}: {SOURCE_TENSOR} is {matrix.shape}, not {shape}")
    atomic_write(target, np.ascontiguousarray(matrix, dtype=ROW_DTYPE).data)


class WordEmbeddings:
    """Rows of a word-embedding file, read with ``os.pread`` from one descriptor opened once.

    Thread-safe: ``pread`` has no shared file offset.
    """

    def __init__(self, path: Path, shape: tuple[int, int]) -> None:
        self.rows, self.dim = shape
        self._row_bytes = self.dim * ROW_DTYPE.itemsize
        self._fd = os.open(path, os.O_RDONLY)
        closer = weakref.finalize(self, os.close, self._fd)
        size = os.fstat(self._fd).st_size
        if size != self.rows * self._row_bytes:
            closer()
            raise ValueError(f"{path}: {size} bytes, not {self.rows} rows of {self._row_bytes}")

    def lookup(self, token_ids: np.ndarray) -> np.ndarray:
        """The rows of ``token_ids`` (any shape) as float32, shape ``token_ids.shape + (dim,)``;
        each distinct id is read once."""
        distinct, inverse = np.unique(token_ids, return_inverse=True)
        if distinct.size and not (0 <= distinct[0] and distinct[-1] < self.rows):
            raise ValueError(f"token ids outside [0, {self.rows}): {distinct[0]}..{distinct[-1]}")
        table = np.empty((distinct.size, self.dim), dtype=np.float32)
        for row, token in enumerate(distinct.tolist()):
            data = os.pread(self._fd, self._row_bytes, token * self._row_bytes)
            if len(data) != self._row_bytes:
                raise OSError(f"short read of word embedding {token}")
            table[row] = np.frombuffer(data, dtype=ROW_DTYPE)
        return table[inverse.reshape(token_ids.shape)]


def load_word_embeddings(folder: Path) -> WordEmbeddings:
    """The word embeddings of a prepared folder; written again from its ``model.safetensors``
    (under the preparation lock) when missing or of the wrong size."""
    shape, target = matrix_shape(folder), folder / WORD_EMBEDDINGS
    return read_or_rebuild(
        folder,
        lambda: WordEmbeddings(target, shape),
        lambda _: write_word_embeddings(folder / "model.safetensors", target, shape),
        (OSError, ValueError),
    )
