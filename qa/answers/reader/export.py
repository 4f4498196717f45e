"""Export the shipped reader weights to ONNX under ``$REPORT_QA_HOME`` (torch is imported here only).

The graph takes the word embeddings as an input, as the encoder's does (see
:mod:`embeddings.word_embeddings`): the reader reads the encoder's rows, and its export holds only
its own layers and heads. Its matrix products are quantized to int8 (onnxruntime's pre-processing,
then dynamic quantization per channel): twice as fast on this CPU, with the same decisions out of
fold (see ``READER.md``). Its weights are saved beside the graph (``reader.onnx_data``), which
onnxruntime maps instead of copying out of the graph: 23 MiB less resident than one file.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from embeddings.home import atomic_write
from embeddings.word_embeddings import detach_word_embeddings, matrix_shape

ONNX_OPSET = 17
FORMAT = "int8-per-channel-external"  # part of the export's folder name: a new format is a new export
WEIGHTS_FILE_SUFFIX = "_data"  # the weights file is named after the graph's: reader.onnx_data
INPUTS = ("input_ids", "attention_mask")
OUTPUTS = ("answer", "start", "end")


def export_reader(encoder_folder: Path, weights: Path, target: Path, reason: str) -> None:
    """Write the reader (``weights`` on ``encoder_folder``'s embeddings) to the ONNX file ``target``
    (int8 matrix products) and its weights file beside it, each written atomically, the graph
    last. Callers hold the preparation lock of ``target``'s folder."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from transformers.utils import logging as transformers_logging

    from qa.answers.reader.model import trained_reader

    transformers_logging.set_verbosity_error()  # its report lists the encoder's layers the reader leaves out
    transformers_logging.disable_progress_bar()

    print(f"report-qa: exporting the answer reader to ONNX (reason: {reason})", file=sys.stderr, flush=True)
    model = trained_reader(encoder_folder, weights)
    model.bert.config._attn_implementation = "eager"
    input_ids = torch.full((2, 8), 5, dtype=torch.long)
    attention_mask = torch.ones((2, 8), dtype=torch.long)
    attention_mask[1, 5:] = 0  # a padded row, so the traced graph honours the mask
    dynamic = {0: "batch", 1: "sequence"}
    graph = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(model, (input_ids, attention_mask), graph, input_names=list(INPUTS),
                          output_names=list(OUTPUTS), opset_version=ONNX_OPSET, dynamo=False,
                          dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "answer": {0: "batch"},
                                        "start": dynamic, "end": dynamic})
    exported = onnx.load_from_string(graph.getvalue())
    detach_word_embeddings(exported, matrix_shape(encoder_folder))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        prepared, quantized = Path(scratch) / "prepared.onnx", Path(scratch) / "quantized.onnx"
        with _root_logging_kept():
            quant_pre_process(exported, prepared, skip_symbolic_shape=True)
            quantize_dynamic(prepared, quantized, per_channel=True, weight_type=QuantType.QInt8)
        graph_file, weights_file = Path(scratch) / target.name, Path(scratch) / (target.name + WEIGHTS_FILE_SUFFIX)
        onnx.save_model(onnx.load(quantized), graph_file, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=weights_file.name)
        atomic_write(target.with_name(weights_file.name), weights_file.read_bytes())
        atomic_write(target, graph_file.read_bytes())


@contextlib.contextmanager
def _root_logging_kept() -> Iterator[None]:
    """Undo what the block does to the root logger's handlers: onnxruntime's quantizer logs through
    ``logging.info``, whose ``basicConfig`` would otherwise send every library's log records (bm25s's
    debug lines among them) to stderr for the rest of the process."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    try:
        yield
    finally:
        root.handlers[:] = handlers
