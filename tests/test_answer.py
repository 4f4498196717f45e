"""Highlights, question types, attributes and abstention (qa.answers, qa.language.qtype)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.evaluate import read_gold
from qa.language import qtype
from qa.language.qtype import QType

DATA = Path(__file__).resolve().parent / "data"
UNANSWERABLE = DATA / "unanswerable.jsonl"
VARIANTS = DATA / "answerable_variants.jsonl"
TRADITIONAL_COLLOQUIAL = DATA / "traditional_colloquial.jsonl"
# written from the report alone by a separate session that never saw the sets above
INDEPENDENT_CHINESE = DATA / "independent_chinese.jsonl"
INDEPENDENT_UNANSWERABLE = DATA / "independent_unanswerable.jsonl"


@pytest.mark.parametrize(
    ("question", "kind", "focus", "measure"),
    [
        ("凤岗办事处有多少名员工？", QType.QUANTITY, "员工", "名"),
        ("有几个窗口获得了称号？", QType.QUANTITY, "窗口获得", "个"),
        ("山东局为企业减免了多少费用？", QType.QUANTITY, "费用", "元"),
        ("党员职工所占比例是多少？", QType.QUANTITY, "比例", "%"),
        ("第六党支部 党员人数", QType.QUANTITY, "党员", "人"),
        ("该局的局长是谁？", QType.PERSON, "局长", ""),
        ("局长叫什么名字？", QType.PERSON, "局长", ""),
        ("谁作出了批示？", QType.PERSON, "", ""),
        ("支部是哪一年成立的？", QType.TIME, "", ""),
        ("办公室是什么时候挂牌的？", QType.TIME, "", ""),
        ("每天工作到几点？", QType.TIME, "", ""),
        ("冻章鱼出口到了哪个国家？", QType.PLACE, "", ""),
        ("专家去哪里调研？", QType.PLACE, "", ""),
        ("宝安区被称为什么？", QType.WHAT, "", ""),
        ("活动包括哪些内容？", QType.WHAT, "内容", ""),
        ("不通过的原因是什么？", QType.REASON, "", ""),
        ("厦门局在报检窗口设了哪几个专门窗口？", QType.WHAT, "专门窗口", ""),  # 哪几 asks which, not how many
        ("厦门局的志愿者服务队有多少人？", QType.QUANTITY, "服务队", "人"),  # the head word, not its last two characters
        ("查获率怎么样？", QType.OTHER, "", ""),  # how it went, not by what means
        ("怎样申请备案？", QType.MANNER, "", ""),
        ("分院形成了怎样的工作模式？", QType.WHAT, "工作模式", ""),
        ("鲜鸡蛋出口现在查验要几天", QType.QUANTITY, "", "天"),
        ("What is the capital of France?", QType.OTHER, "", ""),
    ],
)
def test_detect_question_type(question, kind, focus, measure):
    detected = qtype.detect(question)
    assert (detected.kind, detected.focus, detected.measure) == (kind, focus, measure)


def test_traditional_characters_are_detected_like_simplified():
    assert qtype.detect("鳳崗辦事處有多少名員工？") == qtype.detect("凤岗办事处有多少名员工？")


def test_quantities_skip_years_and_read_chinese_numerals():
    text = "2011年共签发证书涉及金额36亿多美元，连续七年被评为文明单位，党员职工占80％"
    assert qtype.quantities(text) == [("36亿", "美元"), ("七", "年"), ("80", "%")]


@pytest.mark.parametrize(
    ("text", "measure", "expected"),
    [
        ("现有员工88人", "名", True),
        ("现有员工88人", "吨", False),
        ("直接减免各类收费2.5亿元", "元", True),
        ("2012年底建成", "", False),
        ("收到征文560多篇", "", True),
    ],
)
def test_has_quantity_matches_units_of_one_kind(text, measure, expected):
    assert qtype.has_quantity(text, measure) is expected


def test_answer_kinds_in_text():
    assert qtype.has_date("去年8月，中关村办公室挂牌成立")
    assert qtype.has_date("每天从8点半工作到21点半")
    assert not qtype.has_date("现有员工88人")
    assert qtype.years("厦门局2013年的进出口货物总值") == ["2013"]
    assert qtype.has_person("海淀局局长、支部书记赵金生坦言", "海淀局的局长是谁？")
    assert not qtype.has_person("海淀局局长、支部书记赵金生坦言", "赵金生说了什么？")
    assert qtype.has_place("这批冻章鱼顺利出口澳大利亚", "冻章鱼出口到了哪个国家？")


def test_question_phrases_are_stripped():
    assert "时候" not in qtype.strip_question_phrases("办公室是什么时候成立的？")
    assert "名字" not in qtype.strip_question_phrases("局长叫什么名字？")


# --- through the assistant ------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    ["凤岗办事处有多少名员工？", "“五个一”读书活动具体包括哪些内容？", "宝安局把冻章鱼出口到了哪个国家？", "今年全国GDP增长了多少？"],
)
def test_highlights_round_trip(assistant, question):
    answer = assistant.ask(question, top_k=5)
    for passage in answer.passages:
        assert len(passage.highlights) <= 2
        for h in passage.highlights:
            assert passage.text[h.start:h.end] == h.text
            assert h.text.strip() == h.text and h.text


def test_highlight_picks_the_quantity_sentence(assistant):
    top = assistant.ask("凤岗办事处现在有多少名员工？").passages[0]
    assert any("88人" in h.text for h in top.highlights)


def test_a_quantity_counts_as_near_only_next_to_the_noun_it_counts():
    sentence = "承担重大科研项目20余项，参与制修订国家标准200余项"
    assert qtype.has_quantity_near(sentence, "项", ["国家标准"])
    assert not qtype.has_quantity_near("承担重大科研项目20余项，另有国家标准", "项", ["国家标准"])
    assert not qtype.has_quantity_near(sentence, "名", ["国家标准"])


def test_long_sentences_are_highlighted_clause_by_clause(assistant):
    from qa.answers.highlight import LONG_SENTENCE, answer_units

    for passage in assistant.library.passages:
        paragraph = passage.paragraph
        units = answer_units(paragraph)
        assert "".join(u.text for u in units) == "".join(s.text for s in paragraph.sentences)
        assert all(passage.document.text[u.start:u.end] == u.text for u in units)
        assert all(len(u.text) <= LONG_SENTENCE or "；" not in u.text[:-1] for u in units)
    top = assistant.ask("哪位国务院领导肯定了厦门口岸甲型H1N1流感的查获率？").passages[0]
    assert len(top.highlights) >= 1 and all(len(h.text) <= LONG_SENTENCE * 1.5 for h in top.highlights)
    assert any("温家宝" in h.text for h in top.highlights)


def test_highlight_takes_the_list_after_a_lead_in(assistant):
    top = assistant.ask("“五个一”读书活动具体包括哪些内容？").passages[0]
    assert any("每天自学一小时" in h.text for h in top.highlights)


def test_a_sentence_goes_on_from_a_lead_in():
    from qa.answers.highlight import leads_on
    from qa.documents.document import Sentence

    lead, colon = Sentence(0, 10, "开展“五个一”读书活动。"), Sentence(0, 10, "开展“五个一”读书活动：")
    assert leads_on(lead, Sentence(10, 20, "即每天自学一小时，每月培训一天。"))
    assert leads_on(colon, Sentence(10, 20, "每天自学一小时，每月培训一天。"))
    assert not leads_on(lead, Sentence(10, 20, "收到征文560多篇。"))


def test_abstention_keeps_the_nearest_passages_with_a_reason(assistant):
    answer = assistant.ask("厦门局2013年的进出口货物总值是多少？")
    assert not answer.answered
    assert answer.passages
    assert answer.reason.startswith(("报告中没有提到", "最相关的段落没有"))


def test_sets_are_well_formed(seed_report):
    report = "".join(seed_report.read_text(encoding="utf-8").split())
    variants = read_gold(VARIANTS) + read_gold(TRADITIONAL_COLLOQUIAL) + read_gold(INDEPENDENT_CHINESE)
    assert len(variants) >= 30 and all(q.answerable and q.evidence for q in variants)
    for gold in variants:
        assert all("".join(e.split()) in report for e in gold.evidence), gold.question
    unanswerable = read_gold(UNANSWERABLE) + read_gold(INDEPENDENT_UNANSWERABLE)
    assert len(unanswerable) >= 30 and not any(q.answerable for q in unanswerable)
    dev = {json.loads(line)["question"] for line in (DATA.parents[2] / "shared" / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()}
    assert not dev & {q.question for q in variants + unanswerable}


@pytest.mark.parametrize(("gold", "recall"), [(UNANSWERABLE, 0.8), (INDEPENDENT_UNANSWERABLE, 0.75)], ids=["own", "independent"])
def test_abstention_recall_on_unanswerable_set(assistant, gold, recall):
    questions = read_gold(gold)
    answered = [q.question for q in questions if assistant.ask(q.question).answered]
    assert 1 - len(answered) / len(questions) >= recall, answered


@pytest.mark.parametrize(
    # traditional: 2 of 20 since run 18's decision left out the key-term share (1 before), a trade
    # for refusing more near misses (README, 2026-12-06 third stop)
    ("gold", "limit"), [(VARIANTS, 0.05), (TRADITIONAL_COLLOQUIAL, 0.1), (INDEPENDENT_CHINESE, 0.1)], ids=["own", "trad", "independent"]
)
def test_false_abstention_on_answerable_variants(assistant, gold, limit):
    """Few answerable paraphrased, colloquial, traditional and keyword questions abstain."""
    questions = read_gold(gold)
    abstained = [q.question for q in questions if not assistant.ask(q.question).answered]
    assert len(abstained) / len(questions) <= limit, abstained


def test_quantities_read_the_unit_after_the_all_purpose_classifier():
    assert qtype.quantities("检验周期由原来的7个工作日缩短到1~2个") == [("7", "工作日"), ("2", "个")]
    assert qtype.has_quantity("由原来的7个工作日缩短", "天")


def test_common_words_weigh_less_than_the_fact_asked_about():
    from qa.language.keyterms import specificity, term_weights
    from qa.language.postags import tag

    assert 0 < specificity("现在") < specificity("单位") < specificity("硕士") <= 1
    assert specificity("不在任何词表里的词") == 1.0
    weights = term_weights(["第六", "党支部", "所在", "单位", "几名", "硕士"], tag("第六党支部所在单位有几名硕士"), lambda t: 1.0)
    assert "几名" not in weights
    assert weights["硕士"] > weights["所在"] and weights["硕士"] > weights["单位"]
    # a year counts as fully as a noun, whatever jieba tags it
    assert term_weights(["2020"], tag("海淀局2020年有什么计划"), lambda t: 1.0)["2020"] == specificity("2020")


def test_abbreviation_of_adjacent_question_words_counts_as_present():
    from qa.answers.features import abbreviated_terms

    assert abbreviated_terms("全年哪几天停止办理业务", ["停止", "办理", "业务"], "只有除夕到初四停办业务") == {"停止", "办理"}
    assert abbreviated_terms("停止办理业务", ["停止", "办理"], "停止了业务") == set()
    # words not adjacent in the question are never contracted
    assert abbreviated_terms("停止了所有办理", ["停止", "办理"], "停办") == set()


def test_which_days_question_is_answered_from_a_contracted_phrase(assistant):
    answer = assistant.ask("凤岗办全年哪几天停止办理业务？")
    assert answer.answered
    top = answer.passages[0]
    assert "除夕到初四停办业务" in top.text
    assert top.citation.section == "广东东莞检验检疫局凤岗办党支部党员奉献在岗位"
    assert any("除夕到初四" in h.text for h in top.highlights)


def test_one_coincidental_word_does_not_make_an_answer(assistant):
    """A grammatical but meaningless question shares one word (绿色) with a passage: not an answer."""
    answer = assistant.ask("绿色的想法愤怒地睡觉了吗？")
    assert not answer.answered
    assert answer.passages and answer.reason


# --- what a question asks of its subject --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "nouns", "measure", "expected"),
    [
        ("现有员工88人，承担着", ["员工"], "名", True),
        ("目前，共有党员21名，入党积极分子两名", ["党员"], "名", True),
        ("先后设立83个党员先锋岗", ["党员先锋岗"], "个", True),
        ("由原来的7个工作日缩短", ["工作日"], "个", True),  # the noun is the unit
        ("现有员工88人，承担着", ["党员"], "名", False),  # a count of another noun
        ("党员职工占80％", ["职工"], "名", False),  # a share, not a count of people
        ("500多名党员比学赶超、创先争优，全体干部职工", ["干部职工"], "名", False),  # another clause
        ("被评为广东局优秀党员、有5人被评为", ["党员"], "名", False),  # the next item of a list
    ],
)
def test_a_count_must_belong_to_the_asked_for_noun(text, nouns, measure, expected):
    assert qtype.counts(text, nouns, measure) is expected


def test_a_name_must_stand_beside_the_asked_for_role():
    assert qtype.names_role("海淀局局长、支部书记赵金生坦言", ["局长"])
    assert not qtype.names_role("海淀局局长表示，赵金生坦言", ["局长"])  # another clause
    assert not qtype.names_role("海淀局局长、支部书记赵金生坦言", ["局长"], "赵金生是谁？")  # named by the question


def test_reasons_means_and_enumerations_are_recognised():
    assert qtype.is_reason("为帮助企业应对金融危机，他们建立挂点联系制度")
    assert qtype.is_reason("由于工作出色，受到表彰")
    assert not qtype.is_reason("他们为企业服务")
    assert qtype.is_means("通过党员带头开展活动") and not qtype.is_means("现有员工88人")
    assert qtype.is_enumeration("一是着力在目标上定准位") and qtype.is_enumeration("开设延时服务、错单提示、绿色通行等窗口")
    assert not qtype.is_enumeration("现有员工88人")
    assert qtype.is_enumeration("建立制度；完善机制；强化考核")  # items between ；
    assert qtype.is_enumeration("即每天自学一小时，每月培训一天，每季度精读一本书")  # parallel clauses
    assert not qtype.is_enumeration("他们在会上发言，大家很受鼓舞，工作有了起色")
    assert qtype.asks_list("活动包括哪些内容？") and not qtype.asks_list("凤岗办事处有多少名员工？")


def test_words_jieba_guessed_are_split_into_known_words():
    from qa.answers.reading import known_words

    library = "山东检验检疫局 凤岗办事处"
    assert known_words("局有", library) == []  # 山东局有几个: a name glued to the next word
    assert known_words("年凤岗", library) == ["凤岗"]
    assert known_words("员工", library) == ["员工"]  # a dictionary word stays whole
    assert known_words("cnas", library) == ["cnas"]


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("海淀检验检疫局一共有多少名职工？", "最相关的段落没有给出：职工人数"),  # only a share of Party members is given
        ("厦门局2013年的进出口货物总值是多少？", "报告中没有提到：2013年"),
        ("北仑办事处现有多少名员工？", "报告中没有提到：北仑"),  # the report has only the 凤岗 office's
    ],
)
def test_a_near_miss_is_not_answered_and_the_reason_names_what_is_missing(assistant, question, reason):
    answer = assistant.ask(question)
    assert not answer.answered
    assert answer.reason == reason


def test_the_asked_for_attribute_is_a_feature_of_each_candidate(assistant):
    from qa.answers.features import assess

    def attribute(question: str, evidence: str) -> float:
        candidates = assistant.retriever.search(question, 5)
        found = assess(question, assistant.answerer.read(question), candidates, assistant.answerer)
        texts = [assistant.library.passages[c.passage_index].paragraph.text for c in candidates]
        return next(e.features["attribute"] for e, text in zip(found, texts) if evidence in text)

    assert attribute("凤岗办事处有多少名员工？", "现有员工88人") == 1.0
    assert attribute("凤岗办事处有多少名党员？", "现有员工88人") == 0.0  # a staff count is not a member count


def test_the_reader_features_split_by_sign_and_by_language(assistant):
    from qa.answers.answerer import READ_DEPTH
    from qa.answers.features import READER_CEILING, assess
    from qa.answers.highlight import READER_FLOOR

    def read(question: str) -> tuple[list[dict[str, float]], list[float]]:
        """Each candidate's features, and the reader's log-odds for those it read (clipped)."""
        candidates = assistant.retriever.search(question, 5)
        found = assess(question, assistant.answerer.read(question), candidates, assistant.answerer)
        verdicts = assistant.answerer.verdicts(question, tuple(c.passage_index for c in candidates))
        logits = [float(np.clip(verdicts[c.passage_index].logit, READER_FLOOR, READER_CEILING))
                  for c in candidates[:READ_DEPTH]]
        return [e.features for e in found], logits

    (chinese, logits), (english, english_logits) = (
        read("凤岗办事处有多少名员工？"), read("How many employees does the Fenggang office have?"))
    assert chinese[0]["reader_sure"] > 0 and chinese[0]["reader_sure"] == logits[0]  # it answers
    assert all(f["reader_english"] == f["lead_english"] == 0.0 for f in chinese)
    assert all(f["reader_sure"] == max(logit, 0.0) for f, logit in zip(chinese, logits))
    assert all(f["reader_sure"] == 0.0 for f in chinese[READ_DEPTH:])  # past the reader's depth: unread
    assert english[0]["reader_english"] == english_logits[0] and english[0]["lead_english"] == english[0]["reader_lead"]


def test_why_and_how_questions_highlight_the_reason_and_the_means(assistant):
    top = assistant.ask("为什么凤岗办要成立企业对口帮扶小组？").passages[0]
    assert any("为帮助企业应对金融危机" in h.text for h in top.highlights)
    top = assistant.ask("海淀局党支部是怎样建设业务窗口的？").passages[0]
    assert any("通过党员带头" in h.text for h in top.highlights)


def test_passages_read_ahead_leave_nothing_to_tag_for_the_first_questions(assistant):
    from qa.language.postags import tagged

    assistant.answerer.read_ahead()
    before = tagged.cache_info()
    for question in ("凤岗办事处有多少名员工？", "局长叫什么名字？", "冻章鱼出口到了哪个国家？", "不通过的原因是什么？",
                     "Who is the director of the bureau?"):
        assistant.ask(question)
    after = tagged.cache_info()
    assert after.hits > before.hits and after.misses == before.misses
