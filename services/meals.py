"""Canteen menus and meal orders: quote, book (idempotent, never overbooked), list and cancel."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from services.audit import audit
from services.clock import today_local, utcnow
from services.errors import (
    DuplicateOrder,
    InvalidRequest,
    MealFull,
    NoMealService,
    OrderNotFound,
    TooLateToCancel,
    UnknownFacility,
)
from services.models import MEALS, ORDER_MODES, Facility, MealOrder, MealService, Resident
from services.residents import load_resident, meal_subsidy_applies
from services.types import Dish, MealOption, MealOrderView, MealQuote

MAX_PORTIONS = 5
BOOKING_HORIZON_DAYS = 14
# Residents who cannot easily walk to the canteen get their meal brought home by default.
DELIVERY_FROM_DISABILITY = 2

_MEAL_ALIASES = {
    "早饭": "breakfast", "早餐": "breakfast", "早点": "breakfast",
    "午饭": "lunch", "午餐": "lunch", "中饭": "lunch", "中午饭": "lunch", "晌午饭": "lunch",
    "晚饭": "dinner", "晚餐": "dinner", "黑夜饭": "dinner",
}


def normalise_meal(meal: str) -> str:
    meal = (meal or "").strip()
    meal = _MEAL_ALIASES.get(meal, meal).lower()
    if meal not in MEALS:
        raise InvalidRequest("unknown_meal", meal)
    return meal


def _meal_rank(meal: str) -> int:
    return MEALS.index(meal)


def find_service(session: Session, canteen_id: str, day: date, meal: str) -> MealService:
    service = session.scalars(
        select(MealService)
        .where(MealService.canteen_id == canteen_id, MealService.service_date == day, MealService.meal == meal)
        .options(selectinload(MealService.dishes), selectinload(MealService.canteen))
    ).one_or_none()
    if service is None:
        raise NoMealService(canteen_id, day, meal)
    return service


def option_view(service: MealService) -> MealOption:
    return MealOption(
        service_id=service.id,
        canteen_id=service.canteen_id,
        canteen_name=service.canteen.name,
        date=service.service_date,
        meal=service.meal,
        dishes=tuple(Dish(d.name, tuple(d.tags)) for d in service.dishes),
        price_cents=service.price_cents,
        subsidised_price_cents=service.subsidised_price_cents,
        remaining=max(0, service.capacity - service.booked),
        serve_from=service.serve_from,
        capacity=service.capacity,
    )


def order_view(order: MealOrder) -> MealOrderView:
    service = order.service
    return MealOrderView(
        id=order.id,
        resident_id=order.resident_id,
        canteen_id=service.canteen_id,
        canteen_name=service.canteen.name,
        date=order.service_date,
        meal=order.meal,
        portions=order.portions,
        mode=order.mode,
        status=order.status,
        total_cents=order.total_cents,
        serve_from=service.serve_from,
        created_at=order.created_at,
    )


def menu(
    session: Session,
    canteen_id: Optional[str],
    day: date,
    meal: Optional[str] = None,
    resident_id: Optional[str] = None,
) -> list[MealOption]:
    """What a canteen serves that day (all meals, or one). Empty when it serves nothing then."""
    if canteen_id is None:
        if resident_id is None:
            raise InvalidRequest("no_canteen", "give canteen_id or resident_id")
        canteen_id = load_resident(session, resident_id).home_canteen_id
        if canteen_id is None:
            raise InvalidRequest("no_home_canteen", resident_id)
    elif session.get(Facility, canteen_id) is None:
        raise UnknownFacility(canteen_id)
    query = (
        select(MealService)
        .where(MealService.canteen_id == canteen_id, MealService.service_date == day)
        .options(selectinload(MealService.dishes), selectinload(MealService.canteen))
    )
    if meal is not None:
        query = query.where(MealService.meal == normalise_meal(meal))
    services = sorted(session.scalars(query), key=lambda s: _meal_rank(s.meal))
    return [option_view(s) for s in services]


def _active_order(session: Session, resident_id: str, day: date, meal: str) -> Optional[MealOrder]:
    return session.scalars(
        select(MealOrder).where(
            MealOrder.resident_id == resident_id,
            MealOrder.service_date == day,
            MealOrder.meal == meal,
            MealOrder.status == "booked",
        )
    ).first()


def _prepare(
    session: Session,
    resident_id: str,
    day: date,
    meal: str,
    portions: int,
    canteen_id: Optional[str],
    mode: Optional[str],
    today: date,
) -> tuple[Resident, MealService, str, int, bool]:
    """Every check a booking makes before touching capacity; quote and book share it."""
    resident = load_resident(session, resident_id)
    meal = normalise_meal(meal)
    if isinstance(portions, bool) or not isinstance(portions, int) or not 1 <= portions <= MAX_PORTIONS:
        raise InvalidRequest("portions_out_of_range", f"{portions!r} not in 1..{MAX_PORTIONS}")
    if day < today:
        raise InvalidRequest("date_in_past", day.isoformat())
    if day > today + timedelta(days=BOOKING_HORIZON_DAYS):
        raise InvalidRequest("date_too_far", f"{day.isoformat()} is more than {BOOKING_HORIZON_DAYS} days ahead")
    if mode is None:
        mode = "delivery" if resident.disability_level >= DELIVERY_FROM_DISABILITY else "dine_in"
    if mode not in ORDER_MODES:
        raise InvalidRequest("unknown_mode", mode)
    canteen_id = canteen_id or resident.home_canteen_id
    if canteen_id is None:
        raise InvalidRequest("no_home_canteen", resident.id)
    service = find_service(session, canteen_id, day, meal)
    existing = _active_order(session, resident.id, day, meal)
    if existing is not None:
        raise DuplicateOrder(order_view(existing))
    remaining = service.capacity - service.booked
    if portions > remaining:
        raise MealFull(max(0, remaining))
    subsidised = meal_subsidy_applies(resident, today)
    unit = service.subsidised_price_cents if subsidised else service.price_cents
    return resident, service, mode, unit, subsidised


def quote_meal(
    session: Session,
    resident_id: str,
    day: date,
    meal: str,
    portions: int,
    canteen_id: Optional[str] = None,
    mode: Optional[str] = None,
    today: Optional[date] = None,
) -> MealQuote:
    today = today or today_local()
    resident, service, mode, unit, subsidised = _prepare(
        session, resident_id, day, meal, portions, canteen_id, mode, today
    )
    return MealQuote(
        resident_id=resident.id,
        canteen_id=service.canteen_id,
        canteen_name=service.canteen.name,
        date=service.service_date,
        meal=service.meal,
        portions=portions,
        mode=mode,
        unit_price_cents=unit,
        total_cents=unit * portions,
        remaining=service.capacity - service.booked,
        serve_from=service.serve_from,
        subsidised=subsidised,
    )


def _order_by_key(session: Session, idempotency_key: str) -> Optional[MealOrder]:
    return session.scalars(select(MealOrder).where(MealOrder.idempotency_key == idempotency_key)).one_or_none()


def book_meal(
    session: Session,
    resident_id: str,
    day: date,
    meal: str,
    portions: int,
    canteen_id: Optional[str] = None,
    mode: Optional[str] = None,
    *,
    idempotency_key: str,
    actor: str,
    today: Optional[date] = None,
    now: Optional[datetime] = None,
) -> MealOrderView:
    if not idempotency_key:
        raise InvalidRequest("missing_idempotency_key")
    # A retried request (same key) gets the original answer, whatever has changed since.
    replay = _order_by_key(session, idempotency_key)
    if replay is not None:
        return order_view(replay)
    now = now or utcnow()
    today = today or today_local()
    try:
        resident, service, mode, unit, _ = _prepare(
            session, resident_id, day, meal, portions, canteen_id, mode, today
        )
        # Atomic capacity claim: the row only changes if the places are still there, so concurrent
        # bookings serialise on this row and can never push booked past capacity.
        claimed = session.execute(
            update(MealService)
            .where(MealService.id == service.id, MealService.booked + portions <= MealService.capacity)
            .values(booked=MealService.booked + portions)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            session.refresh(service)
            raise MealFull(max(0, service.capacity - service.booked))
    except (DuplicateOrder, MealFull):
        # A concurrent retry under the same key may have committed since we first looked;
        # then the "duplicate" or the place it took is this very booking.
        replay = _order_by_key(session, idempotency_key)
        if replay is not None:
            return order_view(replay)
        raise
    order = MealOrder(
        resident_id=resident.id,
        meal_service_id=service.id,
        service_date=service.service_date,
        meal=service.meal,
        portions=portions,
        mode=mode,
        status="booked",
        unit_price_cents=unit,
        total_cents=unit * portions,
        idempotency_key=idempotency_key,
        created_by=actor,
        created_at=now,
    )
    session.add(order)
    session.flush()  # the partial unique index and the key's UNIQUE fire here under a race
    session.refresh(service)
    audit(
        session, actor, "meal.book", f"order:{order.id}",
        {"resident": resident.id, "canteen": service.canteen_id, "date": service.service_date,
         "meal": service.meal, "portions": portions, "mode": mode, "total_cents": order.total_cents},
        now=now,
    )
    return order_view(order)


def upcoming_orders(session: Session, resident_id: str, today: Optional[date] = None) -> list[MealOrderView]:
    load_resident(session, resident_id)
    today = today or today_local()
    orders = session.scalars(
        select(MealOrder)
        .where(MealOrder.resident_id == resident_id, MealOrder.status == "booked", MealOrder.service_date >= today)
        .options(selectinload(MealOrder.service).selectinload(MealService.canteen))
    ).all()
    orders = sorted(orders, key=lambda o: (o.service_date, _meal_rank(o.meal), o.id))
    return [order_view(o) for o in orders]


def cancel_order(
    session: Session,
    resident_id: str,
    order_id: int,
    actor: str,
    today: Optional[date] = None,
    now: Optional[datetime] = None,
) -> MealOrderView:
    today = today or today_local()
    now = now or utcnow()
    order = session.get(MealOrder, order_id) if isinstance(order_id, int) else None
    if order is None or order.resident_id != resident_id:
        raise OrderNotFound(order_id)
    if order.status == "cancelled":
        return order_view(order)  # cancelling twice is a no-op, not an error
    if order.service_date < today:
        raise TooLateToCancel(order.id, order.service_date)
    # Conditional on status so two concurrent cancels release the places only once.
    changed = session.execute(
        update(MealOrder)
        .where(MealOrder.id == order.id, MealOrder.status == "booked")
        .values(status="cancelled", cancelled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed == 1:
        session.execute(
            update(MealService)
            .where(MealService.id == order.meal_service_id)
            .values(booked=MealService.booked - order.portions)
            .execution_options(synchronize_session=False)
        )
        audit(session, actor, "meal.cancel", f"order:{order.id}",
              {"resident": resident_id, "date": order.service_date, "meal": order.meal,
               "portions": order.portions}, now=now)
    session.refresh(order)
    return order_view(order)


def set_capacity(session: Session, canteen_id: str, day: date, meal: str, capacity: int) -> MealOption:
    meal = normalise_meal(meal)
    if not isinstance(capacity, int) or capacity < 0:
        raise InvalidRequest("capacity_out_of_range", repr(capacity))
    service = find_service(session, canteen_id, day, meal)
    changed = session.execute(
        update(MealService)
        .where(MealService.id == service.id, MealService.booked <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(service)
    if changed != 1:
        raise InvalidRequest("capacity_below_booked", f"{service.booked} places already booked")
    return option_view(service)
