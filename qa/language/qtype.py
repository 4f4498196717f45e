"""What a question asks for, and whether a piece of text holds that kind of answer.

Rules are general Chinese question grammar (多少/几 → a quantity, 谁 → a person, 哪一年 → a
date, 哪里 → a place, 什么/哪些 → a definition or a list); nothing here knows the report.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from qa.language.postags import tag, tagged
from qa.language.textnorm import normalize


class QType(StrEnum):
    """The kind of answer a question asks for."""

    QUANTITY = "quantity"
    PERSON = "person"
    TIME = "time"
    PLACE = "place"
    WHAT = "what"
    REASON = "reason"
    MANNER = "manner"
    OTHER = "other"


@dataclass(frozen=True)
class QuestionType:
    """The asked-for kind, the noun it is about (``员工`` in 多少名员工) and the measure word (``名``)."""

    kind: QType
    focus: str = ""
    measure: str = ""


_HAN_NUMERAL = "零〇一二两三四五六七八九十百千万亿"
_NUMBER = rf"(?:\d+(?:[.,]\d+)?[十百千万亿]*|[{_HAN_NUMERAL}]+)"
# Measure words and units that follow a number; longest first so 人次 wins over 人.
_MEASURES = sorted(
    """
    人次 场次 批次 工作日 小时 分钟 公里 公斤 平方米 美元 欧元 万元 亿元 元 块 % ％ 个 名 位 人 项 次 场 家 户
    件 份 篇 本 部 条 道 套 台 辆 艘 架 只 头 吨 批 种 类 所 座 栋 层 处 支 队 届 期 轮 趟 天 日 周 月 年 岁 倍
    字 页 张 米 里 亩 元钱 点
    """.split(),
    key=len,
    reverse=True,
)
_MEASURE = "|".join(re.escape(m) for m in _MEASURES)
# 多少名员工 / 几个窗口 / 多少费用: the measure word and the noun after the question word.
_COUNT_QUESTION = re.compile(rf"(?:多少|几)({_MEASURE})?([\u4e00-\u9fffa-z]{{0,6}})")
_BEFORE_IS_HOW_MANY = re.compile(
    r"([\u4e00-\u9fffa-z]{1,6}?)(?:总共|一共|共|累计|总计|合计|大概|大约|大致|约)?(?:是|为|有|占|达到?)?(?:多少|多大|多长|多高|多久|几成|人数|数量|数目|总数|次数|个数)"
)
# Measure words of one kind answer each other (多少名员工 ← 88人); money and shares have their nouns.
_MEASURE_CLASSES = {
    **dict.fromkeys(["名", "人", "位"], "people"),
    **dict.fromkeys(["元", "美元", "欧元", "万元", "亿元", "块", "元钱"], "money"),
    **dict.fromkeys(["%", "％"], "share"),
    **dict.fromkeys(["天", "日", "工作日", "小时", "分钟", "周", "月"], "duration"),
    **dict.fromkeys(["项", "条", "件", "点", "款"], "items"),
}
_MONEY_NOUN = re.compile(r"费用|金额|钱|成本|收入|营收|预算|投资|价格|价值|货值|总值|损失|利润|工资|收费|经费|资金")
_SHARE_NOUN = re.compile(r"比例|比重|占比|百分比|率")
# Interrogative phrases whose nouns are not topic words (什么时候 → 时候, 叫什么名字 → 名字).
_QUESTION_PHRASE = re.compile(
    r"叫什么名字|(?:什么|多少|哪一?|几|多)(?:时候|时间|名字|地方|钱|样子?|年|天|月|号|点|位|种|个)|叫什么|怎么样|怎样|如何|人数|数量|数目|总数|次数|个数"
)
_FOCUS_STOP = re.compile(r"[了的是在呢吗啊吧到给于为有和与及、，,？?。！!\s]")

_KIND_PATTERNS: tuple[tuple[QType, re.Pattern[str]], ...] = (
    # 哪 before 几 asks "which", not "how many": 哪几天 is a time question
    (QType.TIME, re.compile(r"哪一?年|哪[一几些]?天|哪[几些]日|哪[几些]?个?月|几月|几号|几点|什么时候|什么时间|何时|哪个时期|哪一时期|什么日子")),
    (QType.PERSON, re.compile(r"谁|哪位|哪一位|什么人|哪些人")),
    (QType.PLACE, re.compile(r"哪里|哪儿|什么地方|在哪|何处|何地|哪个(?:国家|省|市|城市|地区|地方)|哪些(?:国家|省|省份|城市|地区|地方)")),
    (QType.QUANTITY, re.compile(r"多少|(?<!哪)几|多大|多长|多高|多远|多重|多久|比例|百分之|几成|人数|数量|数目|总数|次数|个数")),
    (QType.REASON, re.compile(r"(?<![称成作认视])为什么|为何|原因|怎么回事")),
    # 怎样的工作模式 asks what the mode is, not how something is done
    (QType.WHAT, re.compile(r"(?:怎样|怎么样|什么样)的[\u4e00-\u9fff]{2}|何种")),
    (QType.OTHER, re.compile(r"(?:怎么样|如何)[？?。!！]*$")),  # 查获率怎么样: how it went, not by what means
    (QType.MANNER, re.compile(r"怎样|如何|怎么|什么方式|什么办法|什么途径")),
    (QType.WHAT, re.compile(r"什么|啥|哪些|哪个|哪家|哪部|哪本|哪项|哪种|哪几|哪[一二两三四五六七八九十]|包括|指的?是")),
)
# Role nouns that make 叫什么名字 a question about a person.
_PERSON_ROLE = re.compile(r"(?:长|书记|主任|主席|委员|总理|经理|总监|领导|负责人|主管|队长|老板|员|者|人|师)$")
_NAME_QUESTION = re.compile(r"([\u4e00-\u9fff]{1,6}?)(?:叫什么名字|叫什么|姓什么|名字是什么|是谁)")


def detect(question: str) -> QuestionType:
    """The kind of answer ``question`` asks for, with its focus noun and measure word."""
    text = normalize(question)
    name = _NAME_QUESTION.search(text)
    if name and _PERSON_ROLE.search(name.group(1)):
        return QuestionType(QType.PERSON, focus=_last_word(name.group(1)))
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(text):
            if kind is QType.QUANTITY:
                return _quantity(text)
            if kind is QType.PERSON and name:
                return QuestionType(kind, focus=_last_word(name.group(1)))
            return QuestionType(kind, focus=_what_focus(text) if kind is QType.WHAT else "")
    return QuestionType(QType.OTHER)


def _quantity(text: str) -> QuestionType:
    match = _COUNT_QUESTION.search(text)
    measure = (match.group(1) or "") if match else ""
    focus = _FOCUS_STOP.split(match.group(2))[0] if match else ""
    if len(focus) < 2:
        before = _BEFORE_IS_HOW_MANY.search(text)
        focus = _last_word(_FOCUS_STOP.split(before.group(1))[-1]) if before else ""
    if not measure and "人数" in text:
        measure = "人"
    elif not measure and _MONEY_NOUN.search(text):
        measure = "元"
    elif not measure and _SHARE_NOUN.search(focus):
        measure = "%"
    return QuestionType(QType.QUANTITY, focus=focus, measure=measure)


def strip_question_phrases(question: str) -> str:
    """``question`` without its interrogative phrases (什么时候, 叫什么名字, 多少钱 ...)."""
    return _QUESTION_PHRASE.sub(" ", normalize(question))


def _what_focus(text: str) -> str:
    """The noun a 什么/哪个 question is about: 什么评审 → 评审, 核心理念是什么 → 理念."""
    after = re.search(r"(?:什么样的|怎么样的|怎样的|何种|什么|哪个|哪些|哪家|哪部|哪本|哪项|哪种|哪几个?)([\u4e00-\u9fff]{2,4})", text)
    if after:
        return _FOCUS_STOP.split(after.group(1))[0]
    before = re.search(r"([\u4e00-\u9fff]{2,8}?)(?:是|叫|指|包括)(?:什么|哪些)", text)
    return _last_word(before.group(1)) if before else ""


def _last_word(text: str) -> str:
    """The head of a noun phrase: its last word by jieba when of two characters or more (志愿者服务队
    → 服务队), else its last two characters; "" for one character (又是谁: no noun to check)."""
    text = _FOCUS_STOP.split(text)[-1] if text else ""
    if len(text) < 2:
        return ""
    last = tag(text)[-1][0] if len(text) > 2 else text
    return last if len(last) >= 2 else text[-2:]


# --- what a sentence holds ------------------------------------------------------------------

NEAR_WINDOW = 6  # characters between a quantity and the noun it counts
# 7个工作日: the all-purpose 个 before a unit gives way to the unit
_QUANTITY = re.compile(rf"({_NUMBER})(?:多|余|来|几)?\s*(?:个(?=工作日|小时|星期|月|批次|人次))?({_MEASURE})")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_DATE = re.compile(
    rf"(?<!\d)(?:1[89]\d\d|20\d\d)年?|{_NUMBER}月(?:{_NUMBER}日)?|(?:去|今|前|明|当|同)年|"
    rf"(?:上|下|本)(?:半年|月|周)|日前|近日|目前|除夕|春节|初[一二三四五六七八九十]|{_NUMBER}点"
)
_DEFINITION = re.compile(r"即|包括|指的?是|称为|称作|叫做|被称|堪称|是指|分别|一是|“[^”]{2,}”|《[^》]+》|：|、")


class Quantity(NamedTuple):
    """A number and its measure word, and where they stand in the text."""

    start: int
    end: int
    number: str
    measure: str


def quantities(text: str) -> list[tuple[str, str]]:
    """``(number, measure)`` pairs in ``text``, years (2011年) excluded."""
    return [(found.number, found.measure) for found in _quantities_in(normalize(text))]


@functools.lru_cache(maxsize=8192)
def _quantities_in(text: str) -> tuple[Quantity, ...]:
    """The quantities of normalized ``text``, years (2011年) excluded (cached: the answer step
    reads the same sentences for every question)."""
    return tuple(
        Quantity(match.start(), match.end(), match.group(1), match.group(2))
        for match in _QUANTITY.finditer(text)
        if not (match.group(2) == "年" and _YEAR.fullmatch(match.group(1)))
    )


def has_quantity(text: str, measure: str = "") -> bool:
    """Whether ``text`` states a quantity, in ``measure`` (or a unit of the same kind) if given."""
    return any(_same_unit(m, measure) for _, m in quantities(text))


def has_quantity_near(text: str, measure: str, words: Iterable[str], window: int = NEAR_WINDOW) -> bool:
    """Whether a quantity in ``measure`` stands within ``window`` characters of one of ``words``
    (多少项国家标准 ← 国家标准200余项, not 科研项目20余项 in the same sentence)."""
    text = normalize(text)
    for found in _quantities_in(text):
        if not _same_unit(found.measure, measure):
            continue
        around = text[max(0, found.start - window):found.end + window]
        if any(word in around for word in words):
            return True
    return False


def _same_unit(found: str, measure: str) -> bool:
    """Whether a stated measure word answers a question asking in ``measure`` (any, when generic)."""
    if is_generic(measure):
        return True
    return _MEASURE_CLASSES.get(found, found) == _MEASURE_CLASSES.get(measure, measure) or found[0] == measure[0]


def is_people(measure: str) -> bool:
    """Whether a measure word counts people (名, 人, 位)."""
    return _MEASURE_CLASSES.get(measure) == "people"


def is_generic(measure: str) -> bool:
    """Whether a measure word says nothing about the unit (none, or the all-purpose 个)."""
    return measure in ("", "个")


_CLAUSE_BREAK = re.compile(r"[，,。；;：:！!？?\n]")
COUNT_GAP_AFTER = 4  # 员工共88人, 党员人数为21名: characters between a noun and the count that follows it
COUNT_GAP_BEFORE = 2  # 4次工作会议: characters between a count and the noun that follows it
ROLE_WINDOW = 8  # 局长、支部书记赵金生: characters between a role and the name it belongs to


@functools.lru_cache(maxsize=4096)
def clauses(text: str) -> tuple[str, ...]:
    """The clauses of normalized ``text``: its pieces between commas, stops, colons and semicolons."""
    return tuple(clause for clause in _CLAUSE_BREAK.split(normalize(text)) if clause)


def counts(text: str, nouns: Iterable[str], measure: str = "") -> bool:
    """Whether ``text`` gives a count of one of ``nouns`` in ``measure``'s kind of unit, within
    one clause: the noun then its count (员工88人, 共有党员21名) or the count then the noun (500多名党员,
    83个党员先锋岗), but not the count of the next item of a list (优秀党员、有5人) nor a share
    (党员职工占80% when people are counted)."""
    nouns = [noun for noun in nouns if noun and noun in normalize(text)]
    if not nouns:
        return False
    for clause in clauses(text):
        found = [q for q in _quantities_in(clause) if _same_unit(q.measure, measure)]
        for noun in nouns:
            for at in _occurrences(clause, noun):
                end = at + len(noun)
                inside = any(q.start <= at and end <= q.end for q in found)  # 7个工作日
                after = any(end <= q.start <= end + COUNT_GAP_AFTER and "、" not in clause[end:q.start] for q in found)
                before = any(at - COUNT_GAP_BEFORE <= q.end <= at for q in found)
                if inside or after or before:
                    return True
    return False


def _occurrences(text: str, word: str) -> Iterator[int]:
    """Start of every occurrence of ``word`` in ``text``."""
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)


def names_role(text: str, roles: Iterable[str], question: str = "") -> bool:
    """Whether ``text`` names a person (one ``question`` does not name) within ``ROLE_WINDOW``
    characters of one of ``roles``, in one clause (局长、支部书记赵金生; 总理温家宝)."""
    asked = normalize(question)
    roles = [role for role in roles if role]
    for clause in clauses(text):
        for name in names(clause, "nr"):
            if name in asked:
                continue
            for at in _occurrences(clause, name):
                window = clause[max(0, at - ROLE_WINDOW):at + len(name) + ROLE_WINDOW]
                if any(role in window for role in roles):
                    return True
    return False


def has_date(text: str) -> bool:
    """Whether ``text`` states a date or a time (2011年, 去年8月, 8点半)."""
    return bool(_DATE.search(normalize(text)))


def years(text: str) -> list[str]:
    """Four-digit years (1900-2099) mentioned in ``text``."""
    return _YEAR.findall(normalize(text))


_REASON = re.compile(r"由于|因为|为了|之所以|原因|缘于|出于|旨在|(?:^|[，,。；;：:])为(?![了何什])")
_MEANS = re.compile(r"通过|采取|采用|利用|依托|借助|依靠|坚持|实行|推行|按照|围绕|以[\u4e00-\u9fff“”]{1,12}为(?:抓手|载体|依托|平台|核心|重点|主线|目标)")
_ENUMERATION = re.compile(  # over normalized text, where ，；： are , ; :
    r"[一二三四五六七八九十]是|首先|其次|第[一二三四五六七八九十]"
    r"|[^、,。;]{1,12}、[^、,。;]{1,12}、"  # three items joined by 、
    r"|;.+;"  # items between ；
    r"|(?:^|[,:;])[^,。;]?([^,。;])[^,。;]{0,15},\1[^,。;]{1,15},\1"  # three parallel clauses: 每天…，每月…，每季度…
)
_LIST_QUESTION = re.compile(r"哪些|包括什么|包括哪|有什么(?:措施|做法|内容|活动|举措|办法|成绩|荣誉)|几项(?:措施|内容)|列举")


def is_reason(text: str) -> bool:
    """Whether ``text`` gives a reason or a purpose (由于…, 因为…, 为了…, a clause opening with 为)."""
    return bool(_REASON.search(normalize(text)))


def is_means(text: str) -> bool:
    """Whether ``text`` tells a means or a way (通过…, 采取…, 以…为抓手)."""
    return bool(_MEANS.search(normalize(text)))


def is_enumeration(text: str) -> bool:
    """Whether ``text`` enumerates (一是…二是…, 首先…其次…, three items joined by 、, items between ；,
    three parallel clauses opening alike: 每天…，每月…，每年…)."""
    return bool(_ENUMERATION.search(normalize(text)))


def asks_list(question: str) -> bool:
    """Whether a Chinese question asks for several things (哪些, 包括什么, 有什么措施)."""
    return bool(_LIST_QUESTION.search(normalize(question)))


def is_definition(text: str) -> bool:
    """Whether ``text`` reads like a definition, a name or a list (即…, 包括…, “…”, A、B、C)."""
    return bool(_DEFINITION.search(text))


def read_ahead(text: str) -> None:
    """Read ``text`` and its clauses into the caches the checks look them up in (their
    quantities and part-of-speech tags), so that the first question about them does not."""
    for piece in (text, *clauses(text)):
        tagged(piece)
        _quantities_in(normalize(piece))


def names(text: str, flag: str) -> list[str]:
    """Words of ``text`` tagged ``flag`` by jieba (``nr`` person, ``ns`` place), two characters or more."""
    return [word for word, found in tagged(text) if found == flag and len(word) >= 2]


def has_person(text: str, question: str = "") -> bool:
    """Whether ``text`` names a person that ``question`` does not already name."""
    asked = normalize(question)
    return any(name not in asked for name in names(text, "nr"))


def has_place(text: str, question: str = "") -> bool:
    """Whether ``text`` names a place that ``question`` (or other known context) does not already name."""
    asked = normalize(question)
    return any(name not in asked for name in names(text, "ns"))


def matches(kind: QuestionType, text: str, question: str = "") -> bool:
    """Whether ``text`` holds an answer of the kind ``kind`` asks for (always true for open kinds)."""
    if kind.kind is QType.QUANTITY:
        return has_quantity(text, kind.measure)
    if kind.kind is QType.TIME:
        return has_date(text)
    if kind.kind is QType.PERSON:
        return has_person(text, question)
    if kind.kind is QType.PLACE:
        return has_place(text, question)
    if kind.kind is QType.WHAT:
        return is_definition(text)
    if kind.kind is QType.REASON:
        return is_reason(text)
    if kind.kind is QType.MANNER:
        return is_means(text)
    return True
