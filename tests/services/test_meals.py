from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.errors import (
    DuplicateOrder,
    InvalidRequest,
    MealFull,
    NoMealService,
    OrderNotFound,
    TooLateToCancel,
    UnknownResident,
)
from services.models import AuditEntry, MealService

from .conftest import TODAY, new_key

TOMORROW = TODAY + timedelta(days=1)


def test_menu_for_home_canteen(services):
    options = services.menu(None, TOMORROW, resident_id="r-0001")
    assert [o.meal for o in options] == ["breakfast", "lunch", "dinner"]
    lunch = options[1]
    assert lunch.canteen_id == "ct-zhaowang" and lunch.serve_from == "11:30"
    assert lunch.dishes and all(set(d.tags) <= {"soft", "low_salt", "low_sugar"} for d in lunch.dishes)
    assert services.menu("ct-zhaowang", TOMORROW, "午饭") == [lunch]


def test_menu_is_empty_for_a_day_without_service(services):
    assert services.menu("ct-zhaowang", TODAY + timedelta(days=60)) == []


def test_quote_applies_subsidised_price_to_80_plus(services):
    q = services.quote_meal("r-0001", TOMORROW, "lunch", 2)
    assert (q.unit_price_cents, q.total_cents, q.mode, q.canteen_id) == (600, 1200, "dine_in", "ct-zhaowang")
    q = services.quote_meal("r-0009", TOMORROW, "lunch", 1)  # 63, not hardship
    assert q.unit_price_cents == 1200
    q = services.quote_meal("r-0005", TOMORROW, "lunch", 1)  # 67, special hardship
    assert q.unit_price_cents == 600


def test_quote_defaults_to_delivery_for_disabled(services):
    assert services.quote_meal("r-0004", TOMORROW, "lunch", 1).mode == "delivery"
    assert services.quote_meal("r-0004", TOMORROW, "lunch", 1, mode="dine_in").mode == "dine_in"


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"day": TODAY - timedelta(days=1)}, "date_in_past"),
        ({"day": TODAY + timedelta(days=15)}, "date_too_far"),
        ({"portions": 0}, "portions_out_of_range"),
        ({"portions": 6}, "portions_out_of_range"),
        ({"meal": "supper"}, "unknown_meal"),
        ({"mode": "fly"}, "unknown_mode"),
        ({"resident_id": "r-0007"}, "no_home_canteen"),
    ],
)
def test_quote_and_book_reject_invalid_requests(services, kwargs, reason):
    args = {"resident_id": "r-0001", "day": TOMORROW, "meal": "lunch", "portions": 1} | kwargs
    with pytest.raises(InvalidRequest) as info:
        services.quote_meal(**args)
    assert info.value.reason == reason
    with pytest.raises(InvalidRequest):
        services.book_meal(**args, idempotency_key=new_key(), actor="test")


def test_no_meal_service_and_unknown_resident(services):
    with pytest.raises(NoMealService):
        services.quote_meal("r-0001", TOMORROW, "lunch", 1, canteen_id="st-zhaowang")
    with pytest.raises(UnknownResident):
        services.quote_meal("r-9999", TOMORROW, "lunch", 1)


def test_book_is_idempotent_per_key(services):
    day = TODAY + timedelta(days=2)
    key = new_key()
    first = services.book_meal("r-0002", day, "lunch", 2, idempotency_key=key, actor="resident:r-0002")
    again = services.book_meal("r-0002", day, "lunch", 2, idempotency_key=key, actor="resident:r-0002")
    assert first == again
    assert (first.status, first.portions, first.total_cents, first.canteen_id) == ("booked", 2, 2400, "ct-kangle")
    option = services.menu("ct-kangle", day, "lunch")[0]
    assert option.remaining == option.capacity - 2
    assert [o.id for o in services.upcoming_orders("r-0002")] == [first.id]
    with Session(services.engine) as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target == f"order:{first.id}")).all()
    assert actions == ["meal.book"]


def test_second_order_same_meal_other_key_is_duplicate(services):
    day = TODAY + timedelta(days=3)
    first = services.book_meal("r-0003", day, "dinner", 1, idempotency_key=new_key(), actor="t")
    with pytest.raises(DuplicateOrder) as info:
        services.book_meal("r-0003", day, "dinner", 1, idempotency_key=new_key(), actor="t")
    assert info.value.existing == first
    with pytest.raises(DuplicateOrder):
        services.quote_meal("r-0003", day, "dinner", 1)
    # another meal the same day is fine
    services.book_meal("r-0003", day, "lunch", 1, idempotency_key=new_key(), actor="t")


def test_meal_full(services):
    day = TODAY + timedelta(days=4)
    services.set_capacity("ct-shecheng", day, "lunch", 3)
    services.book_meal("r-0006", day, "lunch", 2, idempotency_key=new_key(), actor="t")
    with pytest.raises(MealFull) as info:
        services.book_meal("r-0023", day, "lunch", 2, idempotency_key=new_key(), actor="t")
    assert info.value.remaining == 1
    with pytest.raises(MealFull):
        services.quote_meal("r-0023", day, "lunch", 2)
    order = services.book_meal("r-0023", day, "lunch", 1, idempotency_key=new_key(), actor="t")
    assert services.menu("ct-shecheng", day, "lunch")[0].remaining == 0
    with pytest.raises(InvalidRequest):
        services.set_capacity("ct-shecheng", day, "lunch", 2)  # below what is booked
    services.cancel_order("r-0023", order.id, actor="t")
    assert services.menu("ct-shecheng", day, "lunch")[0].remaining == 1


def test_cancel_releases_capacity_and_is_idempotent(services):
    day = TODAY + timedelta(days=5)
    before = services.menu("ct-jinrong", day, "breakfast")[0].remaining
    order = services.book_meal("r-0017", day, "breakfast", 3, idempotency_key=new_key(), actor="t")
    assert services.menu("ct-jinrong", day, "breakfast")[0].remaining == before - 3
    cancelled = services.cancel_order("r-0017", order.id, actor="resident:r-0017")
    assert cancelled.status == "cancelled"
    assert services.cancel_order("r-0017", order.id, actor="resident:r-0017").status == "cancelled"
    assert services.menu("ct-jinrong", day, "breakfast")[0].remaining == before
    assert order.id not in [o.id for o in services.upcoming_orders("r-0017")]
    # after cancelling, booking that meal again is allowed
    again = services.book_meal("r-0017", day, "breakfast", 1, idempotency_key=new_key(), actor="t")
    assert again.id != order.id


def test_cancel_someone_elses_order_is_not_found(services):
    order = services.book_meal("r-0018", TOMORROW, "dinner", 1, idempotency_key=new_key(), actor="t")
    with pytest.raises(OrderNotFound):
        services.cancel_order("r-0017", order.id, actor="t")
    with pytest.raises(OrderNotFound):
        services.cancel_order("r-0018", 999_999, actor="t")


def test_too_late_to_cancel_after_the_day(services):
    order = services.book_meal("r-0022", TOMORROW, "breakfast", 1, idempotency_key=new_key(), actor="t")
    with pytest.raises(TooLateToCancel):
        services.cancel_order("r-0022", order.id, actor="t", today=TOMORROW + timedelta(days=1))
    assert services.cancel_order("r-0022", order.id, actor="t", today=TOMORROW).status == "cancelled"


def test_upcoming_orders_sorted_by_date_and_meal(services):
    d1, d2 = TODAY + timedelta(days=6), TODAY + timedelta(days=7)
    services.book_meal("r-0024", d2, "breakfast", 1, idempotency_key=new_key(), actor="t")
    services.book_meal("r-0024", d1, "dinner", 1, idempotency_key=new_key(), actor="t")
    services.book_meal("r-0024", d1, "breakfast", 1, idempotency_key=new_key(), actor="t")
    orders = services.upcoming_orders("r-0024")
    assert [(o.date, o.meal) for o in orders] == [(d1, "breakfast"), (d1, "dinner"), (d2, "breakfast")]
    assert services.upcoming_orders("r-0024", today=d2) == orders[2:]


def test_booked_count_equals_active_portions(services):
    with services.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.id, s.booked, COALESCE(SUM(o.portions), 0) FROM meal_services s "
            "LEFT JOIN meal_orders o ON o.meal_service_id = s.id AND o.status = 'booked' "
            "GROUP BY s.id, s.booked")).all()
    assert all(booked == active for _, booked, active in rows)


def test_partial_unique_index_guards_active_orders(services):
    """Even bypassing the use-case, the database refuses a second active order for one meal."""
    from sqlalchemy.exc import IntegrityError

    day = TODAY + timedelta(days=8)
    order = services.book_meal("r-0014", day, "lunch", 1, idempotency_key=new_key(), actor="t")
    with Session(services.engine) as session:
        service_id = session.scalar(select(MealService.id).where(
            MealService.canteen_id == "ct-duanjiazhuang", MealService.service_date == day, MealService.meal == "lunch"))
        with pytest.raises(IntegrityError):
            session.execute(text(
                "INSERT INTO meal_orders (resident_id, meal_service_id, service_date, meal, portions, mode, status, "
                "unit_price_cents, total_cents, idempotency_key, created_by, created_at) VALUES "
                "('r-0014', :sid, :day, 'lunch', 1, 'dine_in', 'booked', 1000, 1000, :key, 't', :ts)"),
                {"sid": service_id, "day": day, "key": new_key(), "ts": order.created_at})
