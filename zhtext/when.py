""""今儿个几号", "现在几点了", "农历今天初几", "今天是不是重阳节": questions about the calendar and the clock.

Two halves: :func:`parse_time_question` recognises the question (standard library and zhtext only,
so it runs in the Rasa and the app environment alike), and :func:`time_answer` says the answer for a
given instant, short and the way people say it ("今天是十二月三号，星期三，农历十月十四。").

The detector matches a whole clause: an optional lead-in ("请问", "我都忘了"), the day it is about,
the question word, and nothing but particles after it. "几点开门", "医生几点来", "我的补贴几号发"
carry more than a particle after the question word and so are someone else's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal

from .dates import _RELATIVE, _WD_CHAR, WEEKDAY_ZH, parse_date, spoken_date
from .normalize import clean

__all__ = ["TimeQuestion", "Asked", "parse_time_question", "time_answer", "CHINA_TZ"]

Asked = Literal["date", "weekday", "time", "lunar", "festival", "solar_term"]

# The residents' clock (China has one time zone and no summer time); services.clock has the same.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


@dataclass(frozen=True)
class TimeQuestion:
    """What the elder asked: which fact, about which day."""

    asks: Asked
    # The words naming the day, as said after clean-up ("明儿个", "下礼拜三", "二十号"); "" means today.
    day_words: str = ""
    # Days after today when the words fix it without a calendar (今天 0, 明儿个 1, 昨天 -1);
    # None when the day depends on today's date (下礼拜三, 二十号): see target().
    offset: int | None = 0
    # The festival, solar term or weekday asked about by name: "是不是冬至" → "冬至", "是礼拜三吗" → "星期三".
    named: str = ""

    def target(self, today: date) -> date:
        """The calendar day the question is about."""
        if self.offset is not None:
            return today + timedelta(days=self.offset)
        return parse_date(self.day_words, today) or today


# ---- the detector -------------------------------------------------------------------------

_REL_OFFSET = dict(_RELATIVE)  # the same relative words parse_date reads
_NUM = "[0-9零〇一二两三四五六七八九十]{1,3}"
_WEEK_DAY = r"(?:下下个?|下个?|这个?|本|上个?)?(?:星期|礼拜儿?|周)[一二三四五六日天七]|(?:下个?|这个?|本)?周末"
_DAY = "|".join(
    [re.escape(w) for w in sorted(_REL_OFFSET, key=len, reverse=True)]
    + [_WEEK_DAY, f"{_NUM}月{_NUM}(?:号|日)?", f"(?:(?:下个?|这个?|本)月)?{_NUM}(?:号|日)"]
)
_NOW = "现在|这会儿|这会|这阵儿|这阵子|这阵|眼下|此刻|这时候|这个时候|目前"
_LUNAR = "农历|阴历|老历|旧历|老黄历"
_WHAT = "啥|什么|甚么|甚"  # 甚 is Jin for 什么

# Festivals and solar terms asked about by name ("今天是不是重阳") → the name zhtext.lunar says.
# 十一 (11th or 国庆) and 小年 (腊月二十三 here, 二十四 in the library) are left out on purpose.
_SOLAR_TERMS = (
    "立春", "雨水", "惊蛰", "春分", "清明", "谷雨", "立夏", "小满", "芒种", "夏至", "小暑", "大暑",
    "立秋", "处暑", "白露", "秋分", "寒露", "霜降", "立冬", "小雪", "大雪", "冬至", "小寒", "大寒",
)
_FESTIVAL_ALIASES: dict[str, tuple[str, ...]] = {
    "春节": ("春节", "过年", "大年初一", "年初一"),
    "除夕": ("除夕", "大年三十", "年三十", "年三十儿"),
    "元宵节": ("元宵节", "元宵", "正月十五"),
    "二月二龙抬头": ("二月二", "龙抬头"),
    "寒食节": ("寒食节", "寒食"),
    "清明": ("清明节",),
    "端午节": ("端午节", "端午", "端阳节", "端阳", "五月端午"),
    "七夕": ("七夕节", "七夕", "七月七"),
    "中元节": ("中元节", "中元", "鬼节", "七月十五"),
    "中秋节": ("中秋节", "中秋", "八月十五"),
    "重阳节": ("重阳节", "重阳", "九月九", "九月初九", "老年节", "敬老节"),
    "寒衣节": ("寒衣节",),
    "腊八节": ("腊八节", "腊八"),
    "元旦": ("元旦节", "元旦"),
    "妇女节": ("三八妇女节", "妇女节", "三八节", "三八"),
    "劳动节": ("五一劳动节", "劳动节", "五一节", "五一"),
    "儿童节": ("六一儿童节", "儿童节", "六一节", "六一"),
    "建党节": ("建党节", "七一"),
    "建军节": ("建军节", "八一"),
    "教师节": ("教师节",),
    "国庆节": ("国庆节", "国庆"),
    "母亲节": ("母亲节",),
    "父亲节": ("父亲节",),
}
_NAMED: dict[str, str] = {t: t for t in _SOLAR_TERMS} | {
    alias: spoken for spoken, aliases in _FESTIVAL_ALIASES.items() for alias in aliases
}
_NAMED_RE = "|".join(re.escape(n) for n in sorted(_NAMED, key=len, reverse=True))

# The question word(s). Longer alternatives first; what each one asks is decided afterwards.
_Q_TIME = f"(?:几|多少)点钟?(?:几分)?(?:了|啦|咧|嘞)?|(?:{_WHAT})(?:时候|时间|时辰|钟点)(?:了|啦|咧)?|几时(?:了|啦|咧)"
_Q_DATE = f"(?:几|多少)月份?(?:(?:几|多少)(?:号|日)?)?|(?:几|多少)号|几日|几儿|(?:{_WHAT})日期|日期"
_Q_WEEK = f"(?:星期|礼拜儿?|周)(?:几|{_WHAT})"
_Q_WEEK_NAMED = "(?:星期|礼拜儿?|周)[一二三四五六日天七]"
_Q_FEST = (f"(?:有|过|是)?(?:{_WHAT})(?:好)?日子|(?:有|过|是)?(?:{_WHAT})(?:节日|节气|节)"
           "|过不过节|有没有节|过节|节日|节气")
_Q_FEST_NAMED = f"过?(?:{_NAMED_RE})"
_Q_LUNAR_ONLY = f"初几|多少|几|{_WHAT}"  # only after 农历: "农历多少", "阴历啥"
_Q_ANY = "|".join([_Q_TIME, _Q_DATE, _Q_WEEK, _Q_WEEK_NAMED, _Q_FEST, _Q_FEST_NAMED, _Q_LUNAR_ONLY])

# What may follow the question word: particles, a late "现在", a tag question.
_TRAIL = ("了|啦|咧|嘞|哩|呀|啊|呢|吧|哇|吗|嘛|么|哪|呐|哈|哦|来着|现在|这会儿|你知道吗|你知道不|知道吗|知道不"
          "|你说|是吧|对吧|对不对|是不是|没有|没|不是|不")
_CLAUSE = re.compile(
    rf"^(?P<lead>.*?)(?P<l1>{_LUNAR})?(?P<day>{_DAY}|{_NOW})?的?(?P<l2>{_LUNAR})?"
    rf"(?P<cop>是不是|是|过不过)?(?P<l3>{_LUNAR})?"
    rf"(?P<q>(?P<q1>{_Q_ANY})(?P<q2>{_Q_ANY})?)(?P<trail>(?:{_TRAIL})*)$"
)
# What may come before the day: fillers, calling the assistant, "请问", "我都忘了", "你给我说说".
_LEAD = re.compile(
    "^(?:嗯|啊|呃|额|哦|噢|唉|哎呀|哎哟|哎|诶|喂|呀|那个|这个|就是说|就是|然后|那么|那|好|"
    "小银|银龄|你好|您好|闺女|姑娘|孩子|娃娃|娃|小伙子|同志|老师|"
    "我|俺|你|您|咱们|咱|都|也|又|还|就|可|到底|究竟|想|给|帮|麻烦|一下|个|事|"
    "请问|问一下|问下|问问|问|知道|告诉|跟|说说|说一下|说下|说|看看|看一下|看下|查查|查一下|瞧瞧|"
    "忘了|忘记了|忘啦|忘|记不得了|记不得|记不清了|记不清|记不住|不知道|不晓得|搞不清|弄不清|闹不清|老糊涂了|糊涂了)*$"
)
# Another clause of the same turn that asks for something else: leave the turn to the rest of the bot.
_OTHER_BUSINESS = re.compile(
    "订|饭|餐|菜|送|取消|退|补贴|津贴|钱|活动|医生|大夫|看病|药|电话|打给|救|疼|痛|难受|不舒服|摔|血压|血糖|"
    "帮我|叫|找|开门|关门|上班|下班|体检|上门|报名|预约|开会"
)
_YES_NO = re.compile("吗|么|嘛|不|没|吧|是不是|对不对")
_CLAUSE_SPLIT = re.compile("[，。？！；、…,~]+")
_TIME_TENSE = re.compile("了|啦|咧|嘞")
_IS = {name: re.compile(f"(?:{p})") for name, p in (
    ("time", _Q_TIME), ("week", _Q_WEEK), ("week_named", _Q_WEEK_NAMED), ("fest", _Q_FEST),
    ("fest_named", _Q_FEST_NAMED), ("lunar_only", _Q_LUNAR_ONLY), ("now", _NOW), ("week_day", _WEEK_DAY),
)}


def _classify(m: re.Match[str]) -> TimeQuestion | None:
    lead = m.group("lead")
    if not _LEAD.match(lead):
        return None
    day = m.group("day") or ""
    if not day and m.group("cop") == "是" and lead.endswith(("你", "您", "我", "俺")):
        return None  # "你是几号", "我是几号": a number in a queue or a bed, not the date
    now_word = bool(day) and _IS["now"].fullmatch(day) is not None
    lunar = bool(m.group("l1") or m.group("l2") or m.group("l3"))
    q, trail, cop = m.group("q"), m.group("trail"), m.group("cop") or ""
    yes_no = cop in ("是不是", "过不过") or bool(_YES_NO.search(trail))
    offset: int | None = 0 if (not day or now_word) else _REL_OFFSET.get(day)
    day_words = "" if now_word else day

    def ask(asks: Asked, named: str = "") -> TimeQuestion:
        return TimeQuestion(asks, day_words, offset, named)

    if m.group("q2") and any(_IS[k].fullmatch(m.group(g)) for k in ("fest_named", "week_named", "lunar_only")
                             for g in ("q1", "q2")):
        return None  # "冬至几号" asks when 冬至 is, not today's date; only "几号星期几"-like pairs pass
    named = _IS["fest_named"].fullmatch(q)
    if named:
        name = q[1:] if q[1:] in _NAMED and q not in _NAMED else q  # "过中秋" → 中秋; "过年" stays
        return ask("festival", _NAMED[name]) if yes_no and not lunar else None
    if "节气" in q:
        return ask("solar_term")
    if _IS["fest"].fullmatch(q):
        return None if lunar else ask("festival")
    if lunar or q.startswith("初几"):
        # "农历今天初几" / "今天阴历多少" / "今儿是初几": anything date-like after 农历.
        if "点" in q or "时" in q or _IS["week"].fullmatch(q):
            return None
        return ask("lunar")
    if _IS["lunar_only"].fullmatch(q):
        return None  # "今天是啥", "今天多少": not a question we can read
    if _IS["week_named"].fullmatch(q):
        return ask("weekday", WEEKDAY_ZH[_WD_CHAR[q[-1]]]) if yes_no else None
    if _IS["time"].fullmatch(q):
        # The clock is about now: "明天几点" asks for a schedule; "几点" alone is too bare.
        if day and not now_word:
            return None
        if not (now_word or _TIME_TENSE.search(q) or _TIME_TENSE.match(trail)):
            return None
        return TimeQuestion("time")
    if re.search("号|日|月|儿", q):
        return ask("date")
    if re.search("星期|礼拜|周", q):
        return ask("weekday")
    return None


def parse_time_question(text: str | None) -> TimeQuestion | None:
    """The calendar or clock question in what the elder said, or None when there is none.

    "今儿个星期几" → weekday; "现在几点了" → time; "下礼拜三是几号" → date (offset None);
    "农历今天初几" → lunar; "今天啥日子" → festival; "明天中午订饭", "几点开门" → None.
    """
    t = clean(text)
    if not t:
        return None
    found: TimeQuestion | None = None
    others: list[str] = []
    for clause in _CLAUSE_SPLIT.split(t):
        if not clause:
            continue
        m = _CLAUSE.match(clause)
        got = _classify(m) if m else None
        if got and found is None:
            found = got
        elif not got:
            others.append(clause)
    if found is None or any(_OTHER_BUSINESS.search(c) for c in others):
        return None
    return found


# ---- the answer ---------------------------------------------------------------------------

_NEAR = {0: "今天", 1: "明天", 2: "后天", 3: "大后天", -1: "昨天", -2: "前天", -3: "大前天"}
_WEEK_REL = {0: "这个", 1: "下个", 2: "下下个", -1: "上个"}
# Festivals said with a good wish when the elder asks what day it is; not 中元/寒衣/寒食/清明,
# which are for remembering the dead.
_WISH = {
    "春节": "过年好！", "除夕": "过年好！", "元宵节": "祝您节日快乐！", "端午节": "祝您端午安康！",
    "中秋节": "祝您中秋快乐！", "重阳节": "祝您节日快乐，身体健康！", "元旦": "祝您新年好！",
    "劳动节": "祝您节日快乐！", "国庆节": "祝您节日快乐！", "腊八节": "记得喝碗腊八粥！",
}


def _local(now: datetime) -> datetime:
    """`now` on the residents' clock; a naive value is taken to be local time already."""
    return now.astimezone(CHINA_TZ) if now.tzinfo is not None else now.replace(tzinfo=CHINA_TZ)


def _month_day(d: date, today: date) -> str:
    # spoken_date says "[明天，]十二月三号，星期三", with the year when it is not the obvious one.
    return spoken_date(d, today).split("，")[-2]


def _subject(q: TimeQuestion, d: date, today: date) -> tuple[str, str]:
    """How to name the day, and what kind of name it is ("near", "week" or "date")."""
    near = _NEAR.get((d - today).days)
    if near:
        return near, "near"
    if q.day_words and _IS["week_day"].fullmatch(q.day_words):
        weeks = ((d - timedelta(days=d.weekday())) - (today - timedelta(days=today.weekday()))).days // 7
        if weeks in _WEEK_REL:
            return _WEEK_REL[weeks] + WEEKDAY_ZH[d.weekday()], "week"
    return _month_day(d, today), "date"


def _clock(t: time) -> str:
    """"下午两点十分", "早上八点零五分", "中午十二点半", "下午三点整"."""
    from .spoken import spoken_time

    said = spoken_time(t)
    if t.minute == 0:
        return said + "整"
    return said if t.minute == 30 else said + "分"


def _special_sentence(names: tuple[str, ...], subject: str) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return f"{subject}是{names[0]}。"
    return f"{subject}是{names[0]}，也是{names[1]}。"


def _days_until(n: int, what: str, when: str) -> str:
    from .numbers import spoken_int

    if n <= 0:
        return f"{what}是{when}。"
    if n == 1:
        return f"明天就是{what}。"
    if n == 2:
        return f"后天就是{what}。"
    return f"{what}是{when}，还有{spoken_int(n)}天。"


def time_answer(question: TimeQuestion, now: datetime) -> str:
    """The spoken answer (at most two short sentences) to `question` at the instant `now`."""
    from .lunar import lunar_day, next_special, solar_terms_around

    local = _local(now)
    today = local.date()
    if question.asks == "time":
        return f"现在是{_clock(local.time())}。"

    d = question.target(today)
    subject, kind = _subject(question, d, today)
    there = subject if kind == "near" else "那天"
    ld = lunar_day(d)
    md = _month_day(d, today)
    wd = WEEKDAY_ZH[d.weekday()]

    if question.asks in ("date", "weekday"):
        parts = [p for p, k in ((md, "date"), (wd, "week")) if k != kind]
        if question.asks == "date" and d == today:
            parts.append(ld.spoken)
        first = f"{subject}是{'，'.join(parts)}。"
        if question.named:  # "今天是不是礼拜三"
            first = ("对，" if question.named == wd else "不是，") + first
        return first + _special_sentence(ld.special, there)

    if question.asks == "lunar":
        return f"{subject}是{ld.spoken}。" + _special_sentence(ld.special, there)

    if question.asks == "solar_term":
        if ld.solar_term:
            return f"{subject}就是{ld.solar_term}。"
        (_, current), (nxt_day, nxt) = solar_terms_around(d)
        lead = f"现在是{current}节气。" if d == today else f"{subject}还在{current}节气里。"
        return lead + _days_until((nxt_day - today).days, nxt, _month_day(nxt_day, today))

    # festival
    if question.named:
        if question.named in ld.special:
            also = [n for n in ld.special if n != question.named][:1]
            return f"对，{subject}就是{question.named}" + (f"，也是{also[0]}" if also else "") + "。"
        first = f"{subject}不是{question.named}。"
        found = next_special(today, within=90, name=question.named) if d >= today else None
        if found and found[0] > d:
            return first + _days_until((found[0] - today).days, question.named, _month_day(found[0], today))
        return f"{subject}不是{question.named}，是{ld.spoken}。"
    if ld.special:
        wish = _WISH.get(ld.festivals[0], "") if d == today and ld.festivals else ""
        return _special_sentence(ld.special, subject) + wish
    first = f"{subject}不过节，是{ld.spoken}。"
    if d == today:
        coming = next_special(today)
        if coming:
            return first + _days_until((coming[0] - today).days, coming[1], _month_day(coming[0], today))
    return first
