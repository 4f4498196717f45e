"""The reader's weights file: int8 matrices with their row scales, the rest fp16, read back as saved."""

from __future__ import annotations

import torch
from safetensors import safe_open
from transformers import BertConfig, BertModel

from qa.answers.reader.model import (QUANTIZED_PREFIX, SCALE_SUFFIX, SHARED_PREFIX, ReaderModel, load_weights,
                                     save_weights)


def _tiny_reader(seed: int) -> ReaderModel:
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    return ReaderModel(BertModel(config, add_pooling_layer=False))


def test_int8_weights_store_layer_matrices_as_int8_rows_and_read_back_within_half_a_step(tmp_path):
    model, path = _tiny_reader(0), tmp_path / "weights.safetensors"
    save_weights(model, path, int8=True)
    with safe_open(str(path), framework="pt") as stored:
        dtypes = {name: stored.get_tensor(name).dtype for name in stored.keys()}
        scales = {name: stored.get_tensor(name) for name in stored.keys() if name.endswith(SCALE_SUFFIX)}
    matrices = [name for name, value in model.state_dict().items()
                if name.startswith(QUANTIZED_PREFIX) and value.dim() == 2]
    assert matrices and {dtypes[name] for name in matrices} == {torch.int8}
    assert {dtypes[name + SCALE_SUFFIX] for name in matrices} == {torch.float32}
    assert dtypes["answer.weight"] == dtypes["span.weight"] == torch.float16
    assert not any(name.startswith(SHARED_PREFIX) for name in dtypes)

    loaded = load_weights(_tiny_reader(1), path).state_dict()
    for name, value in model.state_dict().items():
        if name.startswith(SHARED_PREFIX):
            continue
        if name in matrices:
            step = scales[name + SCALE_SUFFIX].unsqueeze(1)
            assert ((loaded[name] - value).abs() <= step / 2 + 1e-7).all(), name
            assert torch.allclose(loaded[name].abs().amax(dim=1), value.abs().amax(dim=1), rtol=1e-6)  # ±127 steps
        else:
            assert torch.allclose(loaded[name], value, rtol=1e-3, atol=1e-4), name


def test_fp16_weights_read_back_as_fp16_rounds_them(tmp_path):
    model, path = _tiny_reader(0), tmp_path / "weights.safetensors"
    save_weights(model, path)
    with safe_open(str(path), framework="pt") as stored:
        assert {stored.get_tensor(name).dtype for name in stored.keys()} == {torch.float16}
    loaded = load_weights(_tiny_reader(1), path).state_dict()
    for name, value in model.state_dict().items():
        if not name.startswith(SHARED_PREFIX):
            assert torch.equal(loaded[name], value.half().float()), name
