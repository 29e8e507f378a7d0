"""The canteen's side: the list of canteens and a day's order list, with delivery addresses."""

from datetime import timedelta

import pytest

from services.errors import UnknownFacility

from .conftest import TODAY, new_key


def test_canteens_lists_only_canteens(services):
    canteens = services.canteens()
    ids = [c.id for c in canteens]
    assert "ct-zhaowang" in ids and "ct-kangle" in ids
    assert ids == sorted(ids) and {c.kind for c in canteens} == {"canteen"}
    assert "st-zhaowang" not in ids


def test_canteen_orders_for_a_day(services):
    day = TODAY + timedelta(days=3)
    lunch = services.book_meal("r-0001", day, "lunch", 1, idempotency_key=new_key(), actor="resident:r-0001")
    # 郝秀英 (disability 2) gets hers delivered by default.
    delivered = services.book_meal("r-0004", day, "lunch", 2, idempotency_key=new_key(), actor="resident:r-0004")
    breakfast = services.book_meal("r-0003", day, "breakfast", 1, idempotency_key=new_key(), actor="resident:r-0003")
    cancelled = services.book_meal("r-0022", day, "dinner", 1, idempotency_key=new_key(), actor="resident:r-0022")
    services.cancel_order("r-0022", cancelled.id, "resident:r-0022")
    elsewhere = services.book_meal("r-0002", day, "lunch", 1, idempotency_key=new_key(), actor="resident:r-0002")
    other_day = services.book_meal("r-0001", day + timedelta(days=1), "lunch", 1, idempotency_key=new_key(),
                                   actor="resident:r-0001")

    orders = services.canteen_orders("ct-zhaowang", day)
    assert [o.id for o in orders] == [breakfast.id, lunch.id, delivered.id, cancelled.id]  # by meal, then booking
    by_id = {o.id: o for o in orders}
    assert (by_id[lunch.id].resident_name, by_id[lunch.id].mode, by_id[lunch.id].address) == ("王桂兰", "dine_in", None)
    d = by_id[delivered.id]
    assert (d.resident_id, d.resident_name, d.meal, d.portions, d.mode, d.status) == (
        "r-0004", "郝秀英", "lunch", 2, "delivery", "booked")
    assert d.address and "后街2号" in d.address
    assert by_id[cancelled.id].status == "cancelled"
    assert cancelled.id not in [o.id for o in services.canteen_orders("ct-zhaowang", day, include_cancelled=False)]
    assert elsewhere.id not in by_id and other_day.id not in by_id
    assert [o.id for o in services.canteen_orders("ct-kangle", day)] == [elsewhere.id]
    assert services.canteen_orders("ct-zhaowang", day + timedelta(days=5)) == []


@pytest.mark.parametrize("facility_id", ["ct-nowhere", "st-zhaowang", ""])
def test_canteen_orders_needs_a_canteen(services, facility_id):
    with pytest.raises(UnknownFacility):
        services.canteen_orders(facility_id, TODAY)
