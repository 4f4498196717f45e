"""The trained answer reader: its shipped weights, its ONNX export under REPORT_QA_HOME, its answers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import DEV_GOLD, ROOT

from qa.answers.reader.runtime import EXPORT_FOLDER, WEIGHTS, load_reader
from qa.documents.passages import passage_context

FENGGANG = ("广东东莞检验检疫局凤岗办事处是全国业务量最大的办事处之一，是广东检验检疫局首批全国青年文明号之一。"
            "现有员工88人，承担着年均40多万批次和辖区3200多家外贸企业的检验检疫监管任务；"
            "他们每天从8点半工作到21点半，全年只有除夕到初四停办业务。")
SHANDONG = "山东检验检疫局连续七年被评为省级文明单位，党员队伍建设成效显著。"


@pytest.fixture(scope="module")
def reader_home(tmp_path_factory):
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def reader(assistant, reader_home):
    encoder = assistant.encoder
    return load_reader(encoder.folder, encoder.tokens, encoder.word_embeddings, reader_home)


def test_the_shipped_weights_are_small_int8_layers_without_the_shared_embeddings():
    from safetensors import safe_open

    from qa.answers.reader.model import LAYERS, SCALE_SUFFIX

    assert WEIGHTS.stat().st_size <= 40 * 1024 * 1024
    with safe_open(str(WEIGHTS), framework="numpy") as weights:
        assert int(weights.metadata()["layers"]) == LAYERS
        dtypes = {name: str(weights.get_tensor(name).dtype) for name in weights.keys()}
    matrices = [name for name in dtypes if name + SCALE_SUFFIX in dtypes]
    assert len(matrices) == 6 * LAYERS and {dtypes[name] for name in matrices} == {"int8"}
    assert dtypes["answer.weight"] == dtypes["span.weight"] == "float16"
    assert not any("word_embeddings" in name for name in dtypes)


def test_the_answering_passage_outranks_another_and_its_span_holds_the_number(reader):
    fenggang, shandong = reader.read("凤岗办事处有多少名员工？", [("凤岗办党支部", FENGGANG), ("山东局", SHANDONG)])
    assert fenggang.lead > shandong.lead and fenggang.logit > shandong.logit
    start, end = fenggang.span
    assert "88" in FENGGANG[start:end] and end - start <= 12


def test_a_traditional_question_finds_the_same_sentence(reader):
    (verdict,) = reader.read("鳳崗辦事處有多少名員工？", [("凤岗办党支部", FENGGANG)])
    assert FENGGANG.index("现有员工") <= verdict.span[0] < FENGGANG.index("；")


def test_a_question_and_a_passage_are_read_in_simplified_characters(reader):
    (simplified,) = reader.read("凤岗办事处有多少名员工？", [("凤岗办党支部", FENGGANG)])
    (traditional,) = reader.read("鳳崗辦事處有多少名員工？", [("鳳崗辦黨支部", FENGGANG)])
    assert traditional.logit == pytest.approx(simplified.logit) and traditional.span == simplified.span
    written = "現有員工88人，承擔著年均40多萬批次的檢驗檢疫監管任務。"  # a traditional report keeps its offsets
    (verdict,) = reader.read("凤岗办事处有多少名员工？", [("", written)])
    assert "88" in written[verdict.span[0]:verdict.span[1]]


def test_an_english_question_is_read_as_the_reports_words_for_it(assistant):
    question = "How many employees does the Fenggang office have?"
    answerer, glossary = assistant.answerer, assistant.retriever.glossary
    indices = tuple(c.passage_index for c in assistant.retriever.search(question, 2))
    english = answerer.verdicts(question, indices)
    chinese = answerer.reader.read(glossary.chinese_text(question), [
        (" ".join(passage_context(p.document, p.paragraph)), p.paragraph.text)
        for p in (assistant.library.passages[i] for i in indices)])
    assert [english[i].logit for i in indices] == pytest.approx([verdict.logit for verdict in chinese])


def test_a_passage_longer_than_one_window_is_read_to_its_end(reader):
    filler = "检验检疫工作稳步推进，各项业务有序开展。" * 30
    (verdict,) = reader.read("凤岗办事处有多少名员工？", [("凤岗办党支部", filler + FENGGANG)])
    assert len(verdict.windows) > 1
    assert verdict.span[0] >= len(filler)


def test_a_passages_verdict_does_not_depend_on_the_passages_read_with_it(reader):
    question = "凤岗办事处有多少名员工？"
    filler = "检验检疫工作稳步推进，各项业务有序开展。" * 12  # a longer neighbour: batched, it would pad this one
    (alone,) = reader.read(question, [("凤岗办党支部", FENGGANG)])
    beside, _ = reader.read(question, [("凤岗办党支部", FENGGANG), ("山东局", filler + SHANDONG)])
    assert beside.logit == alone.logit and beside.lead == alone.lead and beside.span == alone.span


def test_a_text_longer_than_the_tokenizer_limit_is_encoded_whole(assistant):
    from qa.answers.reader.windows import encode_text

    text = "检验检疫工作稳步推进，各项业务有序开展。" * 60  # 1,200 characters, past 512 tokens
    ids, spans = encode_text(assistant.encoder.tokens, text)
    assert len(ids) == len(spans) > 512 and spans[-1, 1] == len(text)
    assert (np.diff(spans[:, 0]) >= 0).all()  # in order across the pieces, none lost to truncation


def test_an_empty_passage_gets_no_span(reader):
    (verdict,) = reader.read("凤岗办事处有多少名员工？", [("", "")])
    assert verdict.span is None and verdict.lead == float("-inf")


@pytest.mark.parametrize("damaged", ["reader.onnx", "reader.onnx_data"])
def test_a_damaged_export_is_made_again(assistant, tmp_path, damaged):
    encoder = assistant.encoder
    load_reader(encoder.folder, encoder.tokens, encoder.word_embeddings, tmp_path)
    (folder,) = (tmp_path / EXPORT_FOLDER).glob("*/")
    weights = folder / "reader.onnx_data"
    assert weights.stat().st_size > 1_000_000 > (folder / "reader.onnx").stat().st_size  # the weights beside the graph
    (folder / damaged).write_bytes((folder / damaged).read_bytes()[:1000])
    again = load_reader(encoder.folder, encoder.tokens, encoder.word_embeddings, tmp_path)
    (verdict,) = again.read("凤岗办事处有多少名员工？", [("凤岗办党支部", FENGGANG)])
    assert verdict.span is not None and weights.stat().st_size > 1_000_000


EXPORT_LOGGING_CHECK = """
import logging, sys
from pathlib import Path
from qa.answers.reader.export import export_reader
from qa.answers.reader.runtime import WEIGHTS
export_reader(Path(sys.argv[1]), WEIGHTS, Path(sys.argv[2]) / "reader.onnx", reason="test")
assert logging.getLogger().handlers == [], logging.getLogger().handlers
print("ok")
"""


def test_exporting_leaves_the_processs_logging_as_it_was(assistant, tmp_path):
    # onnxruntime's quantizer logs through ``logging.info``, which would give the root logger a
    # handler: every library's records (bm25s's debug lines) would then reach the terminal
    run = subprocess.run([sys.executable, "-c", EXPORT_LOGGING_CHECK, str(assistant.encoder.folder), str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.stdout.strip() == "ok", run.stderr[-2000:]


def test_making_an_export_removes_the_oldest_of_other_versions(assistant, tmp_path):
    import os

    from qa.answers.reader.runtime import KEPT_EXPORTS

    exports = tmp_path / EXPORT_FOLDER
    stale = [exports / f"{age:016x}" for age in range(KEPT_EXPORTS + 1)]
    for age, folder in enumerate(stale):
        folder.mkdir(parents=True)
        (folder / "reader.onnx").write_bytes(b"an export of other weights")
        os.utime(folder, (1e9 - age * 1000, 1e9 - age * 1000))  # stale[0] the newest
    encoder = assistant.encoder
    load_reader(encoder.folder, encoder.tokens, encoder.word_embeddings, tmp_path)
    (current,) = {folder for folder in exports.iterdir() if folder.is_dir()} - set(stale)
    assert (current / "reader.onnx_data").stat().st_size > 1_000_000
    assert sorted(folder for folder in exports.iterdir() if folder.is_dir() and folder != current) == sorted(
        stale[:KEPT_EXPORTS - 1])


def test_the_export_multiplies_by_its_weights_in_int8(reader, reader_home):
    import onnx

    from qa.answers.reader.model import LAYERS

    (export,) = (reader_home / EXPORT_FOLDER).glob("*/reader.onnx")
    operators = [node.op_type for node in onnx.load(str(export)).graph.node]
    # six weight matrices a layer (query, key, value, attention output, two feed-forward) and the span head;
    # what stays MatMul multiplies activations by activations (attention scores, their weighted sum)
    assert operators.count("MatMulInteger") >= 6 * LAYERS + 1 and operators.count("MatMul") <= 2 * LAYERS


def test_answered_top_passages_carry_a_short_span_inside_a_highlight(assistant):
    from qa.evaluate import read_gold

    spans = 0
    for gold in read_gold(DEV_GOLD):
        answer = assistant.ask(gold.question).to_dict()
        for rank, passage in enumerate(answer["passages"], start=1):
            span = passage.get("answer")
            if span is None:
                continue
            assert rank == 1 and answer["answered"]
            assert passage["text"][span["start"]:span["end"]] == span["text"] and span["text"].strip()
            assert any(h["start"] <= span["start"] and span["end"] <= h["end"] for h in passage["highlights"])
            spans += 1
    assert spans >= 40  # of the 50 answerable dev questions


def test_the_terminal_and_the_page_mark_the_span_inside_the_highlight():
    from qa.cli import format_answer
    from qa.results import Answer, Citation, Highlight, Passage
    from ui.render import marked

    text = "甲乙。现有员工88人，承担任务。丙丁。"
    sentence = Highlight(3, 16, text[3:16])
    passage = Passage(1, 0.9, text, Citation("报告", "a.txt", "一", 1, None, 1, 0, len(text)), 0, (sentence,),
                      answer=Highlight(7, 10, "88人"))
    shown = format_answer(Answer("有多少名员工？", True, (passage,)))
    assert "甲乙。⟦现有员工【88人】，承担任务。⟧丙丁。" in shown
    assert marked(passage) == '甲乙。<mark>现有员工<strong class="answer-span">88人</strong>，承担任务。</mark>丙丁。'
