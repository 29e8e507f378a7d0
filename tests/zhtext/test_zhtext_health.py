import dataclasses

import pytest

from zhtext.health import Reading, parse_reading, parse_readings


@pytest.mark.parametrize(
    "text, expected",
    [
        ("血压一百四十五到九十", Reading("bp", 145, 90)),
        ("高压145低压90", Reading("bp", 145, 90)),
        ("低压九十高压一百四", Reading("bp", 140, 90)),
        ("血压145/90", Reading("bp", 145, 90)),
        ("血压１４５／９０", Reading("bp", 145, 90)),
        ("145/90", Reading("bp", 145, 90)),  # the slash shape is unmistakable
        ("血压九十到一百四十五", Reading("bp", 145, 90)),
        ("血 压 一百 四十五 九十", Reading("bp", 145, 90)),  # Vosk: numbers run together
        ("血压一百三十八十五", Reading("bp", 130, 85)),  # re-cut 138|15 → 130|85
        ("血压一百二八十", Reading("bp", 120, 80)),
        ("今天量的血压是一百三九十", Reading("bp", 130, 90)),
        ("量了血压，高压一百五", Reading("bp", 150, None)),
        ("血压145 90", Reading("bp", 145, 90)),
        ("血糖七点八", Reading("glucose", 7.8)),
        ("糖七点八", Reading("glucose", 7.8)),
        ("血糖是7.8", Reading("glucose", 7.8)),
        ("空腹血糖六点一", Reading("glucose", 6.1)),
        ("餐后血糖十一", Reading("glucose", 11)),
        ("心跳八十", Reading("heart_rate", 80)),
        ("心率八十二", Reading("heart_rate", 82)),
        ("脉搏七十", Reading("heart_rate", 70)),
        ("心跳一分钟八十下", Reading("heart_rate", 80)),
        ("体温三十七度五", Reading("temperature", 37.5)),
        ("体温37度5", Reading("temperature", 37.5)),
        ("体温三十七点五", Reading("temperature", 37.5)),
        ("发烧三十八度二", Reading("temperature", 38.2)),
        ("烧到三十九度", Reading("temperature", 39)),
        ("血氧九十五", Reading("spo2", 95)),
        ("血氧百分之九十六", Reading("spo2", 96)),
        ("血氧95%", Reading("spo2", 95)),
        # Not readings
        ("一百四十五、九十", None),  # no cue word and no context
        ("我有糖尿病", None),
        ("压力大", None),
        ("血压有一点高", None),
        ("发烧了", None),
        ("血压一千", None),
        ("我想订饭", None),
        ("", None),
    ],
)
def test_parse_reading(text, expected):
    assert parse_reading(text) == expected


@pytest.mark.parametrize(
    "text, expect, expected",
    [
        ("一百四十五、九十", "bp", Reading("bp", 145, 90)),
        ("一百四十五 九十", "bp", Reading("bp", 145, 90)),
        ("一百四十五九十", "bp", Reading("bp", 145, 90)),
        ("七点八", "glucose", Reading("glucose", 7.8)),
        ("八十二", "heart_rate", Reading("heart_rate", 82)),
        ("三十七度五", "temperature", Reading("temperature", 37.5)),
        ("九十七", "spo2", Reading("spo2", 97)),
        ("血糖七点八", "bp", Reading("glucose", 7.8)),  # an explicit cue beats the expectation
        ("不知道", "bp", None),
    ],
)
def test_parse_reading_with_context(text, expect, expected):
    assert parse_reading(text, expect=expect) == expected


def test_parse_readings_several():
    assert parse_readings("血压145/90，心跳80") == [Reading("bp", 145, 90), Reading("heart_rate", 80)]
    assert parse_readings("血糖七点八 血压 一百四十 八十五") == [Reading("glucose", 7.8), Reading("bp", 140, 85)]


def test_reading_is_frozen_and_has_unit():
    r = Reading("bp", 145, 90)
    assert r.unit == "mmHg"
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value1 = 1  # type: ignore[misc]
