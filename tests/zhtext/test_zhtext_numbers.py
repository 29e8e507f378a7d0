import pytest

from zhtext.numbers import parse_count, parse_number, spoken_count, spoken_int, spoken_number


@pytest.mark.parametrize(
    "text, expected",
    [
        ("一份", 1),
        ("两份", 2),
        ("二份", 2),
        ("仨", 3),
        ("俩", 2),
        ("三个人的", 3),
        ("2份", 2),
        ("２份", 2),
        ("十份", 10),
        ("十二份", 12),
        ("来两份", 2),
        ("要俩", 2),
        ("两份吧", 2),
        ("三", 3),
        ("3", 3),
        ("就三吧", 3),
        ("嗯 那个 要 三 份", 3),  # Vosk spaces and fillers
        ("来 两 份 吧", 2),
        ("我们俩人", 2),
        ("俺们仨", 3),
        ("两大碗", 2),
        ("两 大 碗", 2),
        ("三碗面", 3),
        ("两位", 2),
        ("三口人", 3),
        ("一个人吃", 1),
        ("要三个", 3),
        ("给我来一份", 1),
        ("两份，不对，三份", 3),  # self-correction: the later count wins
        ("改成四份", 4),
        ("还是两份吧", 2),
        ("两个就行", 2),
        ("能行，两份", 2),
        # Not a (whole) count
        ("半份", None),
        ("一份半", None),
        ("两份半", None),
        ("两三份", None),  # a range: ask again
        ("十几份", None),
        ("三个月", None),
        ("两个星期", None),
        ("第三个", None),
        ("我想订饭", None),
        ("11月24号", None),
        ("三点半", None),
        ("明天", None),
        ("一百份", None),  # above MAX_COUNT: a misrecognition
        ("零份", None),
        ("", None),
        (None, None),
        ("好的", None),
        ("两块钱", None),
    ],
)
def test_parse_count(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("一百四十五", 145), ("七点八", 7.8), ("血糖是7.8", 7.8), ("没有数", None), ("两千二", 2200), ("一百零五", 105)],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "n, measure, expected",
    [
        (1, "份", "一份"),
        (2, "份", "两份"),
        (3, "份", "三份"),
        (10, "份", "十份"),
        (12, "份", "十二份"),
        (20, "份", "二十份"),
        (22, "份", "二十二份"),
        (200, "份", "两百份"),
        (2, "个人", "两个人"),
        (2, "碗", "两碗"),
    ],
)
def test_spoken_count(n, measure, expected):
    assert spoken_count(n, measure) == expected


def test_spoken_count_default_measure():
    assert spoken_count(2) == "两份"


@pytest.mark.parametrize(
    "n, expected",
    [(145, "一百四十五"), (2, "二"), (0, "零"), (10, "十"), (12, "十二"), (105, "一百零五"), (110, "一百一十"),
     (1000, "一千"), (1.2, "一点二"), (37.5, "三十七点五"), (2.0, "二")],
)
def test_spoken_number(n, expected):
    assert spoken_number(n) == expected


@pytest.mark.parametrize("n, expected", [(2, "两"), (22, "二十二"), (200, "两百"), (2000, "两千"), (20000, "两万"), (5, "五")])
def test_spoken_int(n, expected):
    assert spoken_int(n) == expected
