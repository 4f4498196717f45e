"""Export a prepared folder's transformer to ONNX for :mod:`embeddings.onnx_encoder`: token
embeddings (fp32), with the word-embedding lookup and the trimmed tokenizer in files beside it."""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path

from embeddings.prepared import DEFAULT_MODEL, ONNX_MODEL
from embeddings.trimmed_tokenizer import TRIMMED_TOKENIZER, write_trimmed
from embeddings.word_embeddings import WORD_EMBEDDINGS, detach_word_embeddings, matrix_shape, write_word_embeddings

ONNX_OPSET = 17
ONNX_INPUTS = ("input_ids", "attention_mask")
ONNX_OUTPUT = "last_hidden_state"


def export_onnx(folder: Path, reason: str) -> None:
    """Export the folder's transformer (token embeddings, fp32) to `folder/onnx/`, its word
    embeddings in their own file: a temp folder, then an atomic rename. Imports torch and
    transformers, the only place here that does. Callers hold `preparation_lock(folder)`."""
    import onnx
    import torch
    from transformers import AutoModel

    from embeddings.home import remove_staged_leftovers, staged_dir

    print(f"report-qa: exporting {DEFAULT_MODEL} to ONNX (reason: {reason})", file=sys.stderr, flush=True)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    # Two rows, one padded, so the traced graph takes the attention mask into account.
    input_ids = torch.full((2, 8), 5, dtype=torch.long)
    attention_mask = torch.ones((2, 8), dtype=torch.long)
    attention_mask[1, 5:] = 0
    dynamic = {0: "batch", 1: "sequence"}
    graph = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            TokenEmbeddings(),
            (input_ids, attention_mask),
            graph,
            input_names=list(ONNX_INPUTS),
            output_names=[ONNX_OUTPUT],
            dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, ONNX_OUTPUT: dynamic},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    onnx_dir = folder / Path(ONNX_MODEL).parent
    remove_staged_leftovers(onnx_dir)
    exported = onnx.load_from_string(graph.getvalue())
    shape = matrix_shape(folder)
    detach_word_embeddings(exported, shape)
    with staged_dir(onnx_dir) as tmp_dir:
        onnx.save_model(
            exported,
            str(tmp_dir / Path(ONNX_MODEL).name),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=Path(ONNX_MODEL).name + "_data",
        )
        write_trimmed(folder / "tokenizer.json", tmp_dir / Path(TRIMMED_TOKENIZER).name)
        write_word_embeddings(folder / "model.safetensors", tmp_dir / Path(WORD_EMBEDDINGS).name, shape)
