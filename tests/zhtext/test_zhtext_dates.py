from datetime import date

import pytest

from zhtext.dates import parse_date, spoken_date, weekday_of

MON = date(2026, 11, 23)  # a Monday
FRI = date(2026, 11, 27)


@pytest.mark.parametrize(
    "text, today, expected",
    [
        ("今天", MON, MON),
        ("今儿", MON, MON),
        ("今儿个", MON, MON),
        ("明天", MON, date(2026, 11, 24)),
        ("明儿", MON, date(2026, 11, 24)),
        ("明儿个", MON, date(2026, 11, 24)),
        ("明儿个晌午的饭", MON, date(2026, 11, 24)),
        ("明 儿 个", MON, date(2026, 11, 24)),  # Vosk spaces
        ("明早", MON, date(2026, 11, 24)),
        ("后天", MON, date(2026, 11, 25)),
        ("后儿个", MON, date(2026, 11, 25)),
        ("大后天", MON, date(2026, 11, 26)),
        ("昨天", MON, date(2026, 11, 22)),
        ("周三", MON, date(2026, 11, 25)),
        ("星期三", MON, date(2026, 11, 25)),
        ("礼拜三", MON, date(2026, 11, 25)),
        ("周一", MON, MON),  # same weekday → today
        ("周日", MON, date(2026, 11, 29)),
        ("星期天", MON, date(2026, 11, 29)),
        ("礼拜天", MON, date(2026, 11, 29)),
        ("星期日", MON, date(2026, 11, 29)),
        ("周三", FRI, date(2026, 12, 2)),  # already past this week → next one
        ("这周三", MON, date(2026, 11, 25)),
        ("这周三", FRI, date(2026, 11, 25)),  # literally this week's, even if past
        ("下周三", MON, date(2026, 12, 2)),
        ("下礼拜一", MON, date(2026, 11, 30)),
        ("下个星期一", MON, date(2026, 11, 30)),
        ("下个星期一", FRI, date(2026, 11, 30)),
        ("下周日", FRI, date(2026, 12, 6)),
        ("下下周一", MON, date(2026, 12, 7)),
        ("上周三", MON, date(2026, 11, 18)),
        ("3号", MON, date(2026, 12, 3)),  # past this month → next month
        ("三号", MON, date(2026, 12, 3)),
        ("24号", MON, date(2026, 11, 24)),
        ("二十四号", MON, date(2026, 11, 24)),
        ("二十三号", MON, MON),
        ("二十四日", MON, date(2026, 11, 24)),
        ("11月24号", MON, date(2026, 11, 24)),
        ("十一月二十四日", MON, date(2026, 11, 24)),
        ("十二月三号", MON, date(2026, 12, 3)),
        ("1月5号", MON, date(2027, 1, 5)),  # month already past → next year
        ("下个月3号", MON, date(2026, 12, 3)),
        ("这个月30号", MON, date(2026, 11, 30)),
        ("31号", date(2026, 11, 5), date(2026, 12, 31)),  # November has no 31st
        ("30号", date(2027, 2, 10), date(2027, 3, 30)),
        ("那就 二十四号 吧", MON, date(2026, 11, 24)),
        ("周末", MON, date(2026, 11, 28)),
        # Not dates
        ("每周一次", MON, None),
        ("一周一次", MON, None),
        ("3号楼", MON, None),
        ("几号", MON, None),
        ("说明个情况", MON, None),
        ("我想订饭", MON, None),
        ("", MON, None),
        ("十三月五号", MON, None),
    ],
)
def test_parse_date(text, today, expected):
    assert parse_date(text, today) == expected


@pytest.mark.parametrize(
    "d, expected",
    [
        (date(2026, 11, 24), "明天，十一月二十四号，星期二"),
        (MON, "今天，十一月二十三号，星期一"),
        (date(2026, 11, 25), "后天，十一月二十五号，星期三"),
        (date(2026, 11, 29), "十一月二十九号，星期天"),
        (date(2026, 12, 3), "十二月三号，星期四"),
        (date(2027, 1, 1), "一月一号，星期五"),
        (date(2027, 12, 1), "二零二七年十二月一号，星期三"),
    ],
)
def test_spoken_date(d, expected):
    assert spoken_date(d, MON) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("周三有啥活动", 2),
        ("礼拜天有甚活动", 6),
        ("星期一", 0),
        ("下周五", 4),
        ("周 六", 5),
        ("每周三", 2),
        ("明天有啥活动", None),
        ("一周一次", None),
        ("", None),
    ],
)
def test_weekday_of(text, expected):
    assert weekday_of(text) == expected
