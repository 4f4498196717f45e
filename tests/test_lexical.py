"""BM25 retrieval: normalization, traditional characters, the corpus' own terms."""

from __future__ import annotations

import pytest

from qa.assistant import Assistant
from qa.language.textnorm import Tokenizer, normalize, quoted_terms
from qa.retrieval.lexical import LexicalIndex


@pytest.fixture(scope="module")
def bm25_assistant() -> Assistant:
    return Assistant(retriever="bm25")


def test_normalize_folds_traditional_and_full_width() -> None:
    assert normalize("鳳崗辦事處ＩＳＯ９００１") == "凤岗办事处iso9001"


def test_tokens_drop_stopwords_and_punctuation() -> None:
    tokens = Tokenizer().tokenize("凤岗办事处有多少名员工？")
    assert "员工" in tokens
    assert not {"有", "多少", "名", "？"} & set(tokens)


def test_question_tokens_are_the_tokens_cut_once_per_normalized_text() -> None:
    tokenizer = Tokenizer()
    question = "鳳崗辦事處有多少名員工？"
    tokens = tokenizer.question_tokens(question)
    assert tokens == tuple(tokenizer.tokenize(question))
    assert tokenizer.question_tokens(normalize(question)) is tokens  # the same text once normalized
    tokenizer.forget_questions()
    assert tokenizer.question_tokens(question) is not tokens


def test_an_ask_tokenizes_its_question_once(bm25_assistant) -> None:
    """Retrieval and the answer step share the tokens of a question its interrogative phrases
    leave unchanged."""
    tokenizer = bm25_assistant.answerer.tokenizer
    tokenizer.forget_questions()
    bm25_assistant.ask("山东局有多少名党员完成了承诺工作？")
    assert tokenizer._question_tokens.cache_info().hits >= 1


@pytest.mark.parametrize(
    ("simplified", "traditional"),
    [
        ("凤岗办事处有多少名员工？", "鳳崗辦事處有多少名員工？"),
        ("厦门局设立了多少个党员先锋岗？", "廈門局設立了多少個黨員先鋒崗？"),
        ("中国标准化研究院第六党支部有多少名党员？", "中國標準化研究院第六黨支部有多少名黨員？"),
    ],
)
def test_traditional_question_finds_the_same_paragraph(bm25_assistant, simplified, traditional) -> None:
    top_simplified = bm25_assistant.ask(simplified).passages[0]
    top_traditional = bm25_assistant.ask(traditional).passages[0]
    assert top_traditional.paragraph_index == top_simplified.paragraph_index
    assert top_traditional.signals["bm25"] == pytest.approx(top_simplified.signals["bm25"])
    assert top_traditional.signals["bm25"] > 0


def test_quoted_terms_are_taught_to_the_tokenizer() -> None:
    passages = ["开展“擦亮窗口”活动。", "他们的口号是“凤岗凤岗，奉献在岗”。"]
    assert quoted_terms(passages) == ["擦亮窗口"]
    index = LexicalIndex.from_passages(passages)
    assert "擦亮窗口" in index.tokenizer.tokenize("擦亮窗口活动")


def test_question_without_known_terms_scores_zero() -> None:
    index = LexicalIndex.from_passages(["今年新建公园十二个。", "行道树四万株。"])
    assert index.scores("量子计算机").tolist() == [0.0, 0.0]
    assert index.scores("公园").argmax() == 0


def test_heading_is_indexed_with_the_paragraph(bm25_assistant) -> None:
    # the paragraph listing researchers never names its unit; only its heading does
    answer = bm25_assistant.ask("中国标准化研究院第六党支部有多少名博士？", top_k=3)
    assert any("博士12名" in p.text for p in answer.passages)
    assert all(not p.text.startswith(p.citation.section) for p in answer.passages)  # shown without it


def test_pinyin_of_place_names_matches_english_questions() -> None:
    index = LexicalIndex.from_passages(["凤岗办事处现有员工88人。", "厦门局设立了党员先锋岗。"])
    assert index.scores("How many employees does the Fenggang office have?").argmax() == 0
    assert index.scores("pioneer posts in Xiamen").argmax() == 1
    assert index.scores("one syllable: gang men").max() == 0.0  # single syllables are not indexed
