"""Questions about the day and the clock, and their spoken answers at fixed instants."""

from datetime import date, datetime, timedelta, timezone

import pytest

from zhtext.when import CHINA_TZ, TimeQuestion, parse_time_question, time_answer

WED = date(2025, 12, 3)  # a Wednesday; 农历十月十四, in 小雪, four days before 大雪


def at(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=CHINA_TZ)


NOW = at(2025, 12, 3, 14, 10)


@pytest.mark.parametrize(
    "text, asks, target",
    [
        # the date
        ("今天几号", "date", WED),
        ("今天几号了", "date", WED),
        ("今儿个几号咧", "date", WED),
        ("今天是几月几号", "date", WED),
        ("今天多少号", "date", WED),
        ("几号了", "date", WED),
        ("多少号了现在", "date", WED),
        ("现在是几月份了", "date", WED),
        ("今儿几儿啊", "date", WED),
        ("今天是几号星期几", "date", WED),
        ("明天是几号", "date", date(2025, 12, 4)),
        ("明儿个几号", "date", date(2025, 12, 4)),
        ("昨天几号", "date", date(2025, 12, 2)),
        ("大后天几号", "date", date(2025, 12, 6)),
        ("下礼拜三是几号", "date", date(2025, 12, 10)),
        ("下个星期一几号", "date", date(2025, 12, 8)),
        ("这周末是几号", "date", date(2025, 12, 6)),
        ("今 天 几 号", "date", WED),  # Vosk puts spaces between words
        ("哎呀我都忘了今天几号了", "date", WED),
        ("闺女，今天几号了？", "date", WED),
        ("我问你个事，今天几号了", "date", WED),
        ("告诉我今天几号", "date", WED),
        ("今天几号啊你知道不", "date", WED),
        # the weekday
        ("今儿个星期几", "weekday", WED),
        ("今天礼拜几", "weekday", WED),
        ("今天周几", "weekday", WED),
        ("今天是星期几啊", "weekday", WED),
        ("后天星期几", "weekday", date(2025, 12, 5)),
        ("明儿个礼拜几", "weekday", date(2025, 12, 4)),
        ("二十号是星期几", "weekday", date(2025, 12, 20)),
        ("20号星期几", "weekday", date(2025, 12, 20)),
        ("一号是礼拜几", "weekday", date(2026, 1, 1)),  # already past this month → next month's
        ("12月25号是礼拜几", "weekday", date(2025, 12, 25)),
        ("下个月三号星期几", "weekday", date(2026, 1, 3)),
        ("今天是礼拜三吧", "weekday", WED),
        ("今天是不是星期四", "weekday", WED),
        # the clock
        ("现在几点了", "time", None),
        ("现在几点", "time", None),
        ("这会儿几点了", "time", None),
        ("几点了现在", "time", None),
        ("几点了", "time", None),
        ("几点钟了", "time", None),
        ("几点啦", "time", None),
        ("啥时候了", "time", None),
        ("现在啥时候了", "time", None),
        ("这阵儿几点咧", "time", None),
        ("现在什么时间", "time", None),
        ("几点几分了", "time", None),
        ("请问现在几点", "time", None),
        ("嗯那个，现在几点了啊", "time", None),
        ("几 点 了", "time", None),
        # the lunar date
        ("农历今天初几", "lunar", WED),
        ("今天农历多少", "lunar", WED),
        ("今天是农历几号", "lunar", WED),
        ("今天阴历初几", "lunar", WED),
        ("老历今天初几了", "lunar", WED),
        ("今儿是初几咧", "lunar", WED),
        ("今天初几", "lunar", WED),
        ("明天农历是多少", "lunar", date(2025, 12, 4)),
        ("农历几月了", "lunar", WED),
        # festivals and solar terms
        ("今天啥日子", "festival", WED),
        ("今天是什么日子", "festival", WED),
        ("今天是甚日子", "festival", WED),  # Jin: 甚 = 什么
        ("今天是不是过节", "festival", WED),
        ("今天过节吗", "festival", WED),
        ("今天有啥节", "festival", WED),
        ("明天是不是过节", "festival", date(2025, 12, 4)),
        ("今天是什么节气", "solar_term", WED),
        ("现在是啥节气", "solar_term", WED),
        ("明天啥节气", "solar_term", date(2025, 12, 4)),
    ],
)
def test_questions(text, asks, target):
    q = parse_time_question(text)
    assert q is not None, text
    assert q.asks == asks
    if target is not None:
        assert q.target(WED) == target


@pytest.mark.parametrize(
    "text, named",
    [
        ("今天是不是冬至", "冬至"),
        ("今天冬至吗", "冬至"),
        ("今天是不是重阳", "重阳节"),
        ("今儿个是重阳节不", "重阳节"),
        ("今天是老年节吗", "重阳节"),
        ("今天过年吗", "春节"),
        ("明天是不是大年三十", "除夕"),
        ("今天过中秋吗", "中秋节"),
        ("今天是八月十五吗", "中秋节"),
        ("今天是国庆节吗", "国庆节"),
        ("今天是清明节吧", "清明"),
    ],
)
def test_festival_by_name(text, named):
    q = parse_time_question(text)
    assert q is not None and q.asks == "festival" and q.named == named


@pytest.mark.parametrize(
    "text, day_words, offset",
    [
        ("今天几号", "今天", 0),
        ("几号了", "", 0),
        ("现在几号", "", 0),
        ("明儿个礼拜几", "明儿个", 1),
        ("后儿个几号", "后儿个", 2),
        ("前天几号", "前天", -2),
        ("下礼拜三是几号", "下礼拜三", None),
        ("二十号是星期几", "二十号", None),
    ],
)
def test_day_words_and_offset(text, day_words, offset):
    q = parse_time_question(text)
    assert (q.day_words, q.offset) == (day_words, offset)


@pytest.mark.parametrize(
    "text",
    [
        # booking and other business that mentions a day or a clock time
        "明天中午订饭",
        "下礼拜三有啥活动",
        "几点开门",
        "几点开饭",
        "医生几点来",
        "我的补贴几号发",
        "今天几号发补贴",
        "明天几点送饭",
        "三号楼几点开门",
        "明天下午三点有活动吗",
        "你几点下班",
        "现在几点能送饭",
        "我几点吃药",
        "今天星期几有活动",
        "每周三几点",
        "几月几号体检",
        "几点了还不送饭",
        "现在几点啦我饿了",
        "中秋节是几号",
        "冬至几号",  # when 冬至 is, not today's date: not answered (yet)
        "中秋节几号",
        # two things in one turn: the other one is not ours to drop
        "现在几点了，我想订饭",
        "今天几号，帮我订个饭",
        "我难受，现在几点了",
        # days and numbers that are not the date
        "几号床",
        "你是几号",
        "我是几号",
        "住几号楼",
        # too bare, or about another day's schedule
        "几点",
        "啥时候",
        "明天几点",
        "今天是啥",
        # statements, not questions
        "今天是冬至",
        "今天礼拜三",
        "今天是个好日子",
        # not ours at all
        "今天天气怎么样",
        "过节送啥",
        "今天是不是小年",  # 小年 is 腊月二十三 here, 二十四 in the library: left to the bot
        "你叫啥",
        "",
        None,
    ],
)
def test_not_a_time_question(text):
    assert parse_time_question(text) is None


# ---- answers -----------------------------------------------------------------------------------


def answer(text, now):
    q = parse_time_question(text)
    assert q is not None, text
    return time_answer(q, now)


@pytest.mark.parametrize(
    "text, now, expected",
    [
        ("今天几号", NOW, "今天是十二月三号，星期三，农历十月十四。"),
        ("今儿个星期几", NOW, "今天是十二月三号，星期三。"),
        ("明天是几号", NOW, "明天是十二月四号，星期四。"),
        ("后天星期几", NOW, "后天是十二月五号，星期五。"),
        ("昨天几号", NOW, "昨天是十二月二号，星期二。"),
        ("下礼拜三是几号", NOW, "下个星期三是十二月十号。"),
        ("二十号是星期几", NOW, "十二月二十号是星期六。"),
        ("一号是礼拜几", NOW, "一月一号是星期四。那天是元旦。"),
        ("今天是礼拜三吧", NOW, "对，今天是十二月三号，星期三。"),
        ("今天是不是星期四", NOW, "不是，今天是十二月三号，星期三。"),
        ("农历今天初几", NOW, "今天是农历十月十四。"),
        ("明天农历多少", NOW, "明天是农历十月十五。"),
        ("今天啥日子", NOW, "今天不过节，是农历十月十四。大雪是十二月七号，还有四天。"),
        ("今天是什么节气", NOW, "现在是小雪节气。大雪是十二月七号，还有四天。"),
        ("今天是不是冬至", NOW, "今天不是冬至。冬至是十二月二十一号，还有十八天。"),
        ("明天几号", at(2025, 12, 20), "明天是十二月二十一号，星期天。明天是冬至。"),
        ("今天几号", at(2025, 10, 29), "今天是十月二十九号，星期三，农历九月初九。今天是重阳节，也是老年节。"),
        ("今天是啥日子", at(2025, 10, 29), "今天是重阳节，也是老年节。祝您节日快乐，身体健康！"),
        ("今天是不是重阳节", at(2025, 10, 29), "对，今天就是重阳节，也是老年节。"),
        ("今天是不是重阳", at(2025, 10, 20), "今天不是重阳节。重阳节是十月二十九号，还有九天。"),
        ("今天是不是重阳", NOW, "今天不是重阳节，是农历十月十四。"),  # next one is months away
        ("今天过节吗", at(2025, 1, 29), "今天是春节。过年好！"),
        ("今天几号", at(2025, 1, 28), "今天是一月二十八号，星期二，农历腊月二十九。今天是除夕。"),
        ("今天几号", at(2026, 12, 22), "今天是十二月二十二号，星期二，农历冬月十四。今天是冬至。"),
        ("今天是什么节气", at(2026, 12, 22), "今天就是冬至。"),
        ("今天农历多少", at(2025, 7, 25), "今天是农历闰六月初一。"),
        ("今天是什么日子", at(2020, 10, 1), "今天是中秋节，也是国庆节。祝您中秋快乐！"),
        ("今天过节吗", at(2025, 12, 31), "今天不过节，是农历冬月十二。明天就是元旦。"),
        ("今天是啥日子", at(2025, 9, 6), "今天是中元节。"),  # a day for the dead: no good wishes
        ("昨天几号", at(2026, 1, 1), "昨天是二零二五年十二月三十一号，星期三。"),
    ],
)
def test_answers(text, now, expected):
    assert answer(text, now) == expected


@pytest.mark.parametrize(
    "hh, mm, expected",
    [
        (14, 10, "现在是下午两点十分。"),
        (14, 0, "现在是下午两点整。"),
        (8, 5, "现在是早上八点零五分。"),
        (10, 30, "现在是上午十点半。"),
        (12, 0, "现在是中午十二点整。"),
        (13, 45, "现在是下午一点四十五分。"),
        (19, 20, "现在是晚上七点二十分。"),
        (4, 50, "现在是凌晨四点五十分。"),
    ],
)
def test_clock_answers(hh, mm, expected):
    assert answer("现在几点了", at(2025, 12, 3, hh, mm)) == expected


def test_answers_are_short():
    for text in ("今天几号", "今天啥日子", "今天是什么节气", "今天是不是冬至", "下礼拜三是几号", "现在几点了"):
        for now in (NOW, at(2025, 10, 29), at(2025, 1, 28), at(2020, 10, 1)):
            said = answer(text, now)
            assert said.count("。") + said.count("！") <= 2, said
            assert not any(c.isdigit() for c in said), said  # numbers as words, for the synthesiser


def test_now_in_another_zone_is_read_on_the_china_clock():
    # 2025-12-02 23:30 UTC is already 3 December, 07:30, in Shanxi.
    utc = datetime(2025, 12, 2, 23, 30, tzinfo=timezone.utc)
    assert time_answer(TimeQuestion("time"), utc) == "现在是早上七点半。"
    assert time_answer(TimeQuestion("date"), utc) == "今天是十二月三号，星期三，农历十月十四。"
    # A naive value is taken to be local time already.
    assert time_answer(TimeQuestion("time"), datetime(2025, 12, 3, 7, 30)) == "现在是早上七点半。"


def test_the_question_is_frozen_and_resolves_late():
    q = parse_time_question("下礼拜三是几号")
    with pytest.raises(AttributeError):
        q.asks = "time"  # type: ignore[misc]
    # The same question asked on another day names another Wednesday.
    assert q.target(WED) == date(2025, 12, 10)
    assert q.target(WED + timedelta(days=5)) == date(2025, 12, 17)
