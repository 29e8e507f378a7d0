from datetime import time

import pytest

from zhtext.spoken import spoken_distance, spoken_money, spoken_phone_tail, spoken_time


@pytest.mark.parametrize(
    "cents, expected",
    [
        (800, "八块"), (850, "八块五"), (1200, "十二块"), (105, "一块零五分"), (200, "两块"), (250, "两块五"),
        (255, "两块五毛五"), (50, "五毛"), (55, "五毛五"), (5, "五分"), (20, "两毛"), (0, "零块"),
        (2205, "二十二块零五分"), (1000000, "一万块"), (1550, "十五块五"),
    ],
)
def test_spoken_money(cents, expected):
    assert spoken_money(cents) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("11:30", "中午十一点半"), ("14:00", "下午两点"), ("08:00", "早上八点"), ("8:00", "早上八点"),
        ("08:05", "早上八点零五"), ("12:00", "中午十二点"), ("18:30", "晚上六点半"), ("09:45", "上午九点四十五"),
        ("17:00", "下午五点"), ("00:00", "凌晨十二点"), ("11：30", "中午十一点半"), (time(6, 15), "早上六点十五"),
        ("02:00", "凌晨两点"),
    ],
)
def test_spoken_time(value, expected):
    assert spoken_time(value) == expected


@pytest.mark.parametrize("bad", ["", "noon", "25:00", "11:75"])
def test_spoken_time_rejects_garbage(bad):
    with pytest.raises(ValueError):
        spoken_time(bad)


@pytest.mark.parametrize(
    "metres, expected",
    [
        (800, "八百米"), (850, "八百五十米"), (837, "八百四十米"), (15, "十五米"), (1200, "一点二公里"),
        (1000, "一公里"), (1250, "一点三公里"), (2000, "两公里"), (999.6, "一公里"), (12000, "十二公里"),
        (200, "两百米"), (0, "零米"),
    ],
)
def test_spoken_distance(metres, expected):
    assert spoken_distance(metres) == expected


@pytest.mark.parametrize(
    "masked, expected",
    [
        ("138****5678", "尾号五六七八"), ("139****1122", "尾号幺幺两两"), ("+86 138-xxxx-2101", "尾号两幺零幺"),
        ("****0987", "尾号零九八七"), ("", ""), ("****", ""),
    ],
)
def test_spoken_phone_tail(masked, expected):
    assert spoken_phone_tail(masked) == expected
