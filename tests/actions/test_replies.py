"""Wording: short (two sentences at most), concrete, dates and numbers said as people say them."""
from datetime import date, datetime, timezone

import pytest

from actions import replies
from services.types import HelpRequestView, MealOrderView, MealQuote

TODAY = date(2026, 11, 23)  # a Monday
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)


def sentences(text: str) -> int:
    return sum(text.count(p) for p in "。？！")


def quote(**kw):
    base = dict(resident_id="r-0001", canteen_id="c-1", canteen_name="赵王村驿站食堂", date=date(2026, 11, 24),
                meal="lunch", portions=2, mode="dine_in", unit_price_cents=800, total_cents=1600,
                remaining=30, serve_from="11:30")
    base.update(kw)
    return MealQuote(**base)


def order(**kw):
    base = dict(id=1, resident_id="r-0001", canteen_id="c-1", canteen_name="赵王村驿站食堂",
                date=date(2026, 11, 24), meal="lunch", portions=2, mode="dine_in", status="booked",
                total_cents=1600, serve_from="11:30", created_at=NOW)
    base.update(kw)
    return MealOrderView(**base)


def test_readback_says_date_meal_portions_place_price_and_asks():
    text = replies.meal_readback(quote(), TODAY)
    assert text == "给您订明天，十一月二十四号，星期二的午饭，两份，在赵王村驿站食堂吃，一共十六块。对吗？"
    assert sentences(text) <= 2


def test_readback_for_delivery():
    assert "送到家" in replies.meal_readback(quote(mode="delivery"), TODAY)


def test_booked_says_when_to_come():
    text = replies.meal_booked(order(), TODAY)
    assert "十一点半" in text and "赵王村驿站食堂" in text and sentences(text) <= 2


@pytest.mark.parametrize("remaining,expected", [(0, "订满"), (1, "只剩一份")])
def test_full(remaining, expected):
    assert expected in replies.meal_full(date(2026, 11, 24), "dinner", remaining, TODAY)


def test_help_answer_says_what_happens_next():
    view = HelpRequestView(id=7, resident_id="r-0001", status="open", created_at=NOW, escalation_level=0,
                           notified=("儿子张建国", "值班话务员"))
    text = replies.help_raised(view)
    assert "儿子张建国" in text and "别挂" in text


@pytest.mark.parametrize("name", [n for n in dir(replies) if n.isupper() and isinstance(getattr(replies, n), str)])
def test_fixed_answers_are_short(name):
    assert sentences(getattr(replies, name)) <= 2
