"""The canteen side of meal orders: which canteens there are, and a canteen's order list for a day
(what to cook, who eats in, what to deliver where)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.errors import UnknownFacility
from services.facilities import facility_view
from services.models import MEALS, Facility, MealOrder, MealService, Resident
from services.types import CanteenOrderView, FacilityView


def canteens(session: Session) -> list[FacilityView]:
    return [facility_view(f) for f in session.scalars(select(Facility).where(Facility.kind == "canteen")
                                                      .order_by(Facility.id))]


def canteen_orders(session: Session, canteen_id: str, day: date, include_cancelled: bool = True) -> list[CanteenOrderView]:
    """The day's orders at that canteen, by meal (breakfast, lunch, dinner), then in booking order.
    Cancelled ones are listed too (status says so) unless left out; the address only for delivery."""
    canteen = session.get(Facility, canteen_id) if canteen_id else None
    if canteen is None or canteen.kind != "canteen":
        raise UnknownFacility(canteen_id)
    query = (
        select(MealOrder, Resident)
        .join(MealService, MealService.id == MealOrder.meal_service_id)
        .join(Resident, Resident.id == MealOrder.resident_id)
        .where(MealService.canteen_id == canteen.id, MealOrder.service_date == day)
        .order_by(MealOrder.id)
    )
    if not include_cancelled:
        query = query.where(MealOrder.status == "booked")
    rows = sorted(session.execute(query), key=lambda row: (MEALS.index(row[0].meal), row[0].id))
    return [
        CanteenOrderView(
            id=order.id,
            resident_id=resident.id,
            resident_name=resident.name,
            meal=order.meal,
            portions=order.portions,
            mode=order.mode,
            status=order.status,
            address=resident.address if order.mode == "delivery" else None,
        )
        for order, resident in rows
    ]
