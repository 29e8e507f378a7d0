"""20 residents race for 5 places: exactly 5 win, on both backends."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

from services.errors import MealFull

from .conftest import TODAY, new_key


def test_concurrent_bookings_never_overbook(services):
    day = TODAY + timedelta(days=9)
    services.set_capacity("ct-kangle", day, "lunch", 5)
    residents = [f"r-{i:04d}" for i in range(1, 21)]
    barrier = Barrier(len(residents))

    def attempt(resident_id: str):
        barrier.wait()
        try:
            return services.book_meal(resident_id, day, "lunch", 1, canteen_id="ct-kangle",
                                      idempotency_key=new_key(), actor="test")
        except MealFull as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(residents)) as pool:
        results = list(pool.map(attempt, residents))
    booked = [r for r in results if not isinstance(r, Exception)]
    full = [r for r in results if isinstance(r, MealFull)]
    assert len(booked) == 5 and len(full) == 15
    option = services.menu("ct-kangle", day, "lunch")[0]
    assert option.remaining == 0 and option.capacity == 5


def test_concurrent_retries_with_one_key_make_one_order(services):
    day = TODAY + timedelta(days=10)
    key = new_key()
    barrier = Barrier(8)

    def attempt(_):
        barrier.wait()
        return services.book_meal("r-0001", day, "lunch", 1, idempotency_key=key, actor="test")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert len({r.id for r in results}) == 1
    assert len([o for o in services.upcoming_orders("r-0001") if o.date == day]) == 1
    option = services.menu("ct-zhaowang", day, "lunch")[0]
    assert option.capacity - option.remaining == 1


def test_concurrent_different_keys_same_meal_one_order(services):
    day = TODAY + timedelta(days=11)
    barrier = Barrier(6)

    def attempt(_):
        barrier.wait()
        try:
            return services.book_meal("r-0002", day, "dinner", 1, idempotency_key=new_key(), actor="test")
        except Exception as exc:  # DuplicateOrder expected for all but one
            return exc

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, range(6)))
    orders = [r for r in results if not isinstance(r, Exception)]
    assert len(orders) == 1
    assert all(type(r).__name__ == "DuplicateOrder" for r in results if isinstance(r, Exception))
    option = services.menu("ct-kangle", day, "dinner")[0]
    assert option.capacity - option.remaining == 1
