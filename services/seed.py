"""Demo data loader. Idempotent: it only inserts what is missing, so running it twice changes
nothing, and running it on a later day tops menus up to 21 days ahead and adds the new month's
subsidy payments. Dates are laid out relative to the first `today` it is given."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import config
from services import seed_data as data
from services.accounts import insert_account
from services.clock import CHINA_TZ
from services.eligibility import evaluate
from services.models import (
    Account,
    Activity,
    Dish,
    Facility,
    FamilyMember,
    HealthThreshold,
    MealService,
    Operator,
    Resident,
    ServiceType,
    SubsidyApplication,
    SubsidyPayment,
    SubsidyProgramme,
)
from services.passwords import hash_password
from services.privacy import hash_id_number
from services.subsidies import facts_for

MENU_DAYS = 21


def seed(session: Session, today: date) -> None:
    now = datetime.combine(today, time(9, 0), CHINA_TZ).astimezone(timezone.utc)
    _operators(session)
    _service_types(session)
    _programmes(session)
    _facilities(session)
    _residents(session, today)
    _family(session, now)
    _accounts(session, now)
    _thresholds(session)
    _activities(session)
    _menus(session, today)
    _applications(session, today)
    _payments(session, today)
    session.flush()


def _operators(session: Session) -> None:
    for op_id, name, role in data.OPERATORS:
        if session.get(Operator, op_id) is None:
            session.add(Operator(id=op_id, name=name, role=role, is_demo=True))


def _service_types(session: Session) -> None:
    for code, name in data.SERVICE_TYPES:
        if session.get(ServiceType, code) is None:
            session.add(ServiceType(code=code, name=name))


def _programmes(session: Session) -> None:
    for code, name, summary, rules in data.PROGRAMMES:
        if session.get(SubsidyProgramme, code) is None:
            session.add(SubsidyProgramme(code=code, name=name, summary=summary, rules=rules, is_demo=True))


def _facilities(session: Session) -> None:
    # Parents first: a canteen refers to the station it belongs to.
    for row in sorted(data.FACILITIES, key=lambda r: r[-1] is not None):
        fid, kind, name, county, township, village, address, lat, lon, hours, phone, services, parent = row
        if session.get(Facility, fid) is None:
            session.add(Facility(id=fid, kind=kind, name=name, county=county, township=township, village=village,
                                 address=address, lat=lat, lon=lon, hours=hours, phone=phone,
                                 services=list(services), parent_id=parent, is_demo=True))
            session.flush()


def _birth_date(age: int, today: date, index: int) -> date:
    # A birthday 20..319 days ago, so the resident is exactly `age` on the first seeding day.
    last_birthday = today - timedelta(days=20 + (index * 37) % 300)
    try:
        return last_birthday.replace(year=last_birthday.year - age)
    except ValueError:  # 29 February in a non-leap year
        return last_birthday.replace(year=last_birthday.year - age, day=28)


def _demo_id_number(division: str, birth: date, index: int, gender: str) -> str:
    """A well-formed but fictitious ID number (GB 11643 checksum); only its salted hash is stored."""
    sequence = 100 + index * 2 + (1 if gender == "男" else 0)  # odd for men, even for women
    body = f"{division}{birth:%Y%m%d}{sequence:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _residents(session: Session, today: date) -> None:
    salt = config.id_salt()
    for index, row in enumerate(data.RESIDENTS, start=1):
        rid, name, gender, age, place, detail, alone, disability, hardship, canteen, station, phone = row
        if session.get(Resident, rid) is not None:
            continue
        county, township, village, lat, lon, prefix = data.PLACES[place]
        birth = _birth_date(age, today, index)
        jitter = ((index * 7) % 11 - 5) * 0.0003  # neighbours, not all on one doorstep
        session.add(Resident(
            id=rid, name=name, gender=gender, birth_date=birth, address=prefix + detail,
            county=county, township=township, village=village, lat=lat + jitter, lon=lon - jitter,
            home_canteen_id=canteen, home_station_id=station, phone=phone,
            id_number_hash=hash_id_number(_demo_id_number(data.DIVISION_CODES[county], birth, index, gender), salt),
            lives_alone=alone, disability_level=disability, special_hardship=hardship, is_demo=True,
        ))
    session.flush()


def _family(session: Session, now: datetime) -> None:
    for index, (fid, rid, name, relation, phone, consent) in enumerate(data.FAMILY):
        if session.get(FamilyMember, fid) is None:
            session.add(FamilyMember(
                id=fid, resident_id=rid, name=name, relation=relation, phone=phone, consent=consent,
                consent_at=now - timedelta(days=30 + index) if consent else None, is_demo=True,
            ))


def _accounts(session: Session, now: datetime) -> None:
    session.flush()  # the operators and family rows they link to
    have = set(session.scalars(select(Account.username)))
    missing = [row for row in data.ACCOUNTS if row[0] not in have]
    if not missing:
        return
    password_hash = hash_password(data.DEMO_PASSWORD)  # once a run: argon2 is slow on purpose
    for username, display_name, kind, operator_id, family_ids in missing:
        if operator_id and session.scalars(select(Account.id).where(Account.operator_id == operator_id)).first():
            continue  # that operator signs in under another name already
        members = [m for m in (session.get(FamilyMember, fid) for fid in family_ids)
                   if m is not None and m.account_id is None]
        insert_account(session, username, display_name, kind, password_hash, members, operator_id, now=now,
                       is_demo=True)


def _thresholds(session: Session) -> None:
    existing = {(t.measure, t.resident_id) for t in session.scalars(select(HealthThreshold))}
    rows = [(None, *t) for t in data.THRESHOLDS] + list(data.THRESHOLD_OVERRIDES)
    for resident_id, measure, low1, high1, low2, high2 in rows:
        if (measure, resident_id) not in existing:
            session.add(HealthThreshold(measure=measure, resident_id=resident_id,
                                        low1=low1, high1=high1, low2=low2, high2=high2))


def _activities(session: Session) -> None:
    existing = {(a.facility_id, a.title, a.weekday, a.start_time) for a in session.scalars(select(Activity))}
    for facility_id, title, weekdays, start, end, description in data.ACTIVITIES:
        for weekday in weekdays:
            if (facility_id, title, weekday, start) not in existing:
                session.add(Activity(facility_id=facility_id, title=title, weekday=weekday, start_time=start,
                                     end_time=end, description=description, is_demo=True))


def _menus(session: Session, today: date) -> None:
    canteens = [row[0] for row in data.FACILITIES if row[1] == "canteen"]
    last = today + timedelta(days=MENU_DAYS - 1)
    existing = set(session.execute(
        select(MealService.canteen_id, MealService.service_date, MealService.meal)
        .where(MealService.service_date >= today, MealService.service_date <= last)
    ).tuples())
    for c_index, canteen_id in enumerate(canteens):
        urban = canteen_id in data.URBAN_CANTEENS
        for offset in range(MENU_DAYS):
            day = today + timedelta(days=offset)
            for meal, plan in data.MEAL_PLAN.items():
                if (canteen_id, day, meal) in existing:
                    continue
                serve_from, cap_v, cap_u, price_v, sub_v, price_u, sub_u = plan
                service = MealService(
                    canteen_id=canteen_id, service_date=day, meal=meal,
                    capacity=cap_u if urban else cap_v, booked=0,
                    price_cents=price_u if urban else price_v,
                    subsidised_price_cents=sub_u if urban else sub_v,
                    serve_from=serve_from, is_demo=True,
                )
                service.dishes = [Dish(position=i, name=name, tags=list(tags))
                                  for i, (name, tags) in enumerate(_dishes_for(meal, day, c_index))]
                session.add(service)
    session.flush()


def _dishes_for(meal: str, day: date, canteen_index: int) -> list[tuple[str, tuple[str, ...]]]:
    # A deterministic weekly-ish rotation: the same day always gets the same menu.
    pool = data.DISHES[meal]
    count = data.DISHES_PER_MEAL[meal]
    start = (day.toordinal() * count + canteen_index * 5) % len(pool)
    return [pool[(start + i) % len(pool)] for i in range(count)]


def _months_ago(today: date, months: int) -> date:
    total = today.year * 12 + today.month - 1 - months
    return date(total // 12, total % 12 + 1, 1)


def _applications(session: Session, today: date) -> None:
    existing = {(a.resident_id, a.programme_code) for a in session.scalars(select(SubsidyApplication))}
    for resident_id, code, status, months_ago, decided_after in data.APPLICATIONS:
        if (resident_id, code) in existing:
            continue
        applied = _months_ago(today, months_ago).replace(day=8) if months_ago else today - timedelta(days=5)
        decided = applied + timedelta(days=decided_after) if decided_after is not None else None
        session.add(SubsidyApplication(resident_id=resident_id, programme_code=code, status=status,
                                       applied_on=applied, decided_on=decided))
    session.flush()


def _month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _payments(session: Session, today: date) -> None:
    """Monthly payments for approved cash programmes: paid up to last month, this month pending."""
    current = _month_key(today)
    for app in session.scalars(select(SubsidyApplication).where(SubsidyApplication.status == "approved")):
        resident = session.get(Resident, app.resident_id)
        programme = session.get(SubsidyProgramme, app.programme_code)
        outcome = evaluate(programme.rules, facts_for(resident, today))
        if not outcome.amount_cents_per_month or app.decided_on is None:
            continue  # a service, not money (探访关爱, 适老化改造)
        have = {p.month: p for p in session.scalars(select(SubsidyPayment).where(SubsidyPayment.application_id == app.id))}
        month = _months_ago(app.decided_on, -1)  # first payment: the month after approval
        while _month_key(month) <= current:
            key = _month_key(month)
            paid = key < current
            payment = have.get(key)
            if payment is None:
                session.add(SubsidyPayment(application_id=app.id, month=key, amount_cents=outcome.amount_cents_per_month,
                                           status="paid" if paid else "pending",
                                           paid_on=month.replace(day=15) if paid else None))
            elif paid and payment.status == "pending":  # a later run: last month's payment went out
                payment.status, payment.paid_on = "paid", month.replace(day=15)
            month = _months_ago(month, -1)
