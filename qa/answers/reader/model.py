"""The reader as a torch module: the first layers of e5-small with an answer head and a span head.

Only training and the one-time ONNX export import this module (and torch). The word, position
and type embeddings are the prepared encoder's own, frozen; the shipped weights file holds the
transformer layers and the two heads, its matrices in int8 (see :func:`save_weights`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import BertModel

LAYERS = 12  # all of e5-small's layers: the first 6 learn far slower and choose sentences worse (see READER.md)
SHARED_PREFIX = "bert.embeddings."  # weights that stay the encoder's, never shipped
QUANTIZED_PREFIX = "bert.encoder."  # the transformer layers, whose matrices an int8 file stores in int8
SCALE_SUFFIX = "@scale"  # beside an int8 matrix: its rows' fp32 scales


class ReaderModel(torch.nn.Module):
    """(question, context window) -> answer log-odds from ``<s>``, and per-token start/end logits."""

    def __init__(self, bert: BertModel) -> None:
        super().__init__()
        self.bert = bert
        hidden = bert.config.hidden_size
        self.answer = torch.nn.Linear(hidden, 1)
        self.span = torch.nn.Linear(hidden, 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        states = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        start, end = self.span(states).unbind(-1)
        return self.answer(states[:, 0]).squeeze(-1), start, end


def base_reader(encoder_folder: Path, layers: int = LAYERS) -> ReaderModel:
    """A reader whose layers start as the first ``layers`` of the encoder at ``encoder_folder``
    (a prepared sentence-transformers folder), embeddings frozen, heads new."""
    bert = BertModel.from_pretrained(str(encoder_folder), num_hidden_layers=layers, add_pooling_layer=False)
    bert.embeddings.requires_grad_(False)
    return ReaderModel(bert)


def save_weights(model: ReaderModel, path: Path, int8: bool = False) -> None:
    """Write the layers and heads (not the shared embeddings) as safetensors: fp16, or with
    ``int8`` each matrix of the transformer layers as int8 rows with one fp32 scale a row
    (symmetric, ``max |row| / 127``) and the rest fp16. That is the grid onnxruntime's per-channel
    quantization puts those matrices on at export, so an int8 file exports to the same graph as
    its fp16 source."""
    tensors = {}
    for name, value in model.state_dict().items():
        if name.startswith(SHARED_PREFIX):
            continue
        value = value.detach().float()
        if int8 and value.dim() == 2 and name.startswith(QUANTIZED_PREFIX):
            scale = value.abs().amax(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny) / 127
            tensors[name] = torch.round(value / scale).clamp(-127, 127).to(torch.int8).contiguous()
            tensors[name + SCALE_SUFFIX] = scale.squeeze(1).contiguous()
        else:
            tensors[name] = value.to(torch.float16).contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={"layers": str(model.bert.config.num_hidden_layers)})


def load_weights(model: ReaderModel, weights: Path) -> ReaderModel:
    """``model`` with the layers and heads of ``weights`` (fp16 or int8, as :func:`save_weights`
    writes them)."""
    stored = load_file(str(weights))
    tensors = {name: _dequantized(stored, name) for name in stored if not name.endswith(SCALE_SUFFIX)}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [name for name in missing if not name.startswith(SHARED_PREFIX)]
    if missing or unexpected:
        raise ValueError(f"{weights}: not reader weights (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return model


def _dequantized(stored: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """Tensor ``name`` of a weights file in fp32: an int8 matrix times its rows' scales."""
    value = stored[name].to(torch.float32)
    scale = stored.get(name + SCALE_SUFFIX)
    return value if scale is None else value * scale.unsqueeze(1)


def trained_reader(encoder_folder: Path, weights: Path) -> ReaderModel:
    """The trained reader: the encoder's embeddings with the layers and heads of ``weights``."""
    from safetensors import safe_open

    with safe_open(str(weights), framework="pt") as handle:
        layers = int(handle.metadata()["layers"])
    return load_weights(base_reader(encoder_folder, layers), weights).eval()
