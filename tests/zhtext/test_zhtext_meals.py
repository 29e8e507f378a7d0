import pytest

from zhtext.meals import MEAL_ZH, MODE_ZH, parse_meal, parse_meals, parse_mode


@pytest.mark.parametrize(
    "text, expected",
    [
        ("早饭", "breakfast"), ("早餐", "breakfast"), ("早点", "breakfast"), ("吃早点", "breakfast"),
        ("早上", "breakfast"), ("早起的饭", "breakfast"), ("明早的", "breakfast"),
        ("午饭", "lunch"), ("午餐", "lunch"), ("中午", "lunch"), ("中午饭", "lunch"), ("晌午", "lunch"),
        ("晌午饭", "lunch"), ("响午饭", "lunch"), ("明儿个晌午的", "lunch"), ("中 午 饭", "lunch"),
        ("晚饭", "dinner"), ("晚餐", "dinner"), ("晚上", "dinner"), ("黑夜饭", "dinner"), ("夜饭", "dinner"),
        ("后晌饭", "dinner"),
        ("不要午饭，要晚饭", "dinner"),  # the negated one loses
        ("午饭不要了", "lunch"),  # lone mention still names the meal (for cancelling)
        ("订 个 晌午 饭", "lunch"),
        ("早点送来", None),  # 早点 = earlier
        ("早上好", None),
        ("我想订饭", None),
        ("", None),
    ],
)
def test_parse_meal(text, expected):
    assert parse_meal(text) == expected


def test_parse_meals_lists_all_in_order():
    assert parse_meals("午饭和晚饭都要") == ("lunch", "dinner")
    assert parse_meals("晚饭，还有早饭，晚饭") == ("dinner", "breakfast")
    assert parse_meals("你好") == ()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("送", "delivery"), ("送来", "delivery"), ("送到家", "delivery"), ("送上门", "delivery"),
        ("外送", "delivery"), ("送餐", "delivery"), ("给我送过来吧", "delivery"), ("送 到 家 里", "delivery"),
        ("在家吃", "delivery"), ("腿脚不好走不动", "delivery"), ("要不送过来吧", "delivery"),
        ("去吃", "dine_in"), ("过去吃", "dine_in"), ("堂食", "dine_in"), ("到食堂", "dine_in"),
        ("在食堂吃", "dine_in"), ("自己去", "dine_in"), ("我自己过去", "dine_in"), ("不用送", "dine_in"),
        ("别送了，我自己去", "dine_in"), ("不用 送 了", "dine_in"), ("去 食堂 吃", "dine_in"),
        ("我想订饭", None), ("", None), ("好的", None),
    ],
)
def test_parse_mode(text, expected):
    assert parse_mode(text) == expected


def test_labels():
    assert MEAL_ZH == {"breakfast": "早饭", "lunch": "午饭", "dinner": "晚饭"}
    assert set(MODE_ZH) == {"delivery", "dine_in"}
