"""The reader's training examples: the near miss is its paragraph without the answering sentence;
some questions are asked as keyword searches."""

from __future__ import annotations

import random
from dataclasses import dataclass

import opencc
import pytest

from qa.train_reader import Question, in_keyword_form, keyword_form, without_answer

PARAGRAPH = "史特拉斯堡位於法國東部。該市人口在19世紀增長了三倍，達到15萬人。其後工業得到發展。"


def _question(answer: str) -> Question:
    return Question("人口在哪個世紀增長了三倍？", answer, PARAGRAPH.index(answer), 0, 0)


def test_the_near_miss_keeps_every_sentence_but_the_answering_one():
    assert without_answer(PARAGRAPH, _question("19世紀")) == "史特拉斯堡位於法國東部。其後工業得到發展。"


def test_no_near_miss_when_the_answer_is_stated_again_or_nothing_is_left():
    repeated = PARAGRAPH + "19世紀末該市屬德國。"
    assert without_answer(repeated, Question("？", "19世紀", repeated.index("19世紀"), 0, 0)) == ""
    alone = "該市人口在19世紀增長了三倍。"
    assert without_answer(alone, Question("？", "19世紀", alone.index("19世紀"), 0, 0)) == ""


def test_the_keyword_form_keeps_the_words_that_carry_the_topic():
    assert keyword_form("凤岗办事处有多少名员工？") == "凤岗 办事处 员工"
    assert keyword_form("人口在哪個世紀增長了三倍？").split()[:2] == ["人口", "世紀"]
    assert keyword_form("是什么？") == ""


def test_about_the_share_asked_is_turned_into_keywords_and_the_rest_stays():
    questions = [_question("19世紀")] * 400 + [Question("是什么？", "19世紀", 0, 0, 0)]
    asked = in_keyword_form(questions, 0.3, random.Random(0))
    changed = [a for a, q in zip(asked, questions) if a != q]
    assert 90 <= len(changed) <= 150 and all(a.text == "人口 世紀 增長 三倍" for a in changed)
    assert asked[-1] == questions[-1]  # nothing left to ask with
    assert all(a.answer == q.answer and a.start == q.start for a, q in zip(asked, questions))


def test_an_unanswerable_question_reads_the_window_around_what_it_is_about():
    from pathlib import Path

    from tokenizers import Tokenizer

    from embeddings.models import resolve_model
    from embeddings.trimmed_tokenizer import TokenIds
    from qa.answers.reader.windows import encode_text
    from qa.train_reader import Unanswered, unanswered_example

    folder = Path(resolve_model(None))
    tokens = TokenIds(lambda: Tokenizer.from_file(str(folder / "tokenizer.json")))
    text = PARAGRAPH * 12 + "該市於1871年改名。"  # several windows; what the question is about comes last
    paragraphs = [[("史特拉斯堡", text)]]
    start = text.index("改名")
    question = Unanswered("史特拉斯堡改名後叫什麼？", 0, 0, start, start + 2)
    example = unanswered_example(question, paragraphs, lambda t: encode_text(tokens, t), random.Random(0))
    first, last = example.window.text_range
    assert not example.answers and (example.start, example.end) == (0, 0)
    assert first > 0 and "改名" in f"史特拉斯堡\n{text}"[first:last]


@dataclass(frozen=True)
class TrainingData:
    """The training data as ``train_reader`` reads it: the script converter, paragraphs and questions."""

    convert: opencc.OpenCC
    paragraphs: list[list[tuple[str, str]]]
    questions: list[Question]


@pytest.fixture(scope="module")
def training() -> TrainingData:
    from qa.train_reader import DATA, SEED, training_data

    convert = opencc.OpenCC("t2s")
    articles, questions, _ = training_data(DATA, convert, random.Random(SEED))
    return TrainingData(convert, [article[1] for article in articles], questions)


def test_the_shipped_unanswerable_questions_sit_in_training_paragraphs_in_their_script(training):
    from qa.mrc_unanswerable import read_unanswerable
    from qa.train_reader import DATA, TRAIN_FILES, place_unanswerable

    convert, paragraphs = training.convert, training.paragraphs
    rows = read_unanswerable()
    assert len(rows) > 500 and {row.source for row in rows} <= set(TRAIN_FILES)  # DRCD test stays held out
    placed = place_unanswerable(rows, DATA, paragraphs, convert)
    assert len(placed) == len(rows)
    for row, question in zip(sorted(rows, key=lambda r: TRAIN_FILES.index(r.source)), placed):
        text = paragraphs[question.article][question.paragraph][1]
        assert text[question.start:question.end] in (row.trap, convert.convert(row.trap))
        assert question.text in (row.question, convert.convert(row.question))


def test_the_shipped_paraphrases_take_their_original_questions_answer_in_their_script(training):
    from qa.mrc_paraphrases import read_paraphrases
    from qa.train_reader import DATA, TRAIN_FILES, place_paraphrases

    paragraphs, questions = training.paragraphs, training.questions
    rows = read_paraphrases()
    assert len(rows) > 500 and {row.source for row in rows} <= set(TRAIN_FILES)  # DRCD test stays held out
    placed = place_paraphrases(rows, DATA, paragraphs, training.convert)
    assert len(placed) >= 0.95 * len(rows)
    answers = {(q.article, q.paragraph, q.start, q.answer) for q in questions}
    for question in placed:
        text = paragraphs[question.article][question.paragraph][1]
        assert text[question.start:question.start + len(question.answer)] == question.answer
        assert (question.article, question.paragraph, question.start, question.answer) in answers
    originals = {(q.article, q.paragraph, q.text) for q in questions}
    assert sum((q.article, q.paragraph, q.text) not in originals for q in placed) >= 0.95 * len(placed)
