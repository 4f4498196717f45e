"""The reader's training examples: the near miss is its paragraph without the answering sentence."""

from __future__ import annotations

from qa.train_reader import Question, without_answer

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
