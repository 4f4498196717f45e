"""Export the shipped reader weights to ONNX under ``$REPORT_QA_HOME`` (torch is imported here only).

The graph takes the word embeddings as an input, as the encoder's does (see
:mod:`embeddings.word_embeddings`): the reader reads the encoder's rows, and its export holds only
its own layers and heads.
"""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path

from embeddings.home import atomic_write
from embeddings.word_embeddings import detach_word_embeddings, matrix_shape

ONNX_OPSET = 17
INPUTS = ("input_ids", "attention_mask")
OUTPUTS = ("answer", "start", "end")


def export_reader(encoder_folder: Path, weights: Path, target: Path, reason: str) -> None:
    """Write the reader (``weights`` on ``encoder_folder``'s embeddings) to the ONNX file ``target``
    (fp32, one file, written atomically). Callers hold the preparation lock of ``target``'s folder."""
    import onnx
    import torch
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
    atomic_write(target, exported.SerializeToString())
