from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.models import (
    Base,
    Facility,
    FamilyMember,
    MealService,
    Resident,
    SubsidyApplication,
    SubsidyPayment,
)
from services.seed import seed

from .conftest import TODAY


def _snapshot(services) -> dict[str, list[tuple]]:
    with services.engine.connect() as conn:
        return {
            name: sorted(tuple(map(repr, row)) for row in conn.execute(text(f"SELECT * FROM {name}")))
            for name in Base.metadata.tables
        }


def test_seed_has_the_places_and_people_from_the_reports(services):
    with Session(services.engine) as session:
        names = set(session.scalars(select(Facility.name)))
        assert "榆社县北寨乡赵王村居家养老服务驿站" in names
        assert "榆次区晋华街道康乐社区养老服务中心" in names
        assert "咱家智慧社区居家养老服务中心" in names
        assert "灵石县两渡镇段家庄村幸福小院" in names
        assert "灵石县静升镇静升村幸福小院" in names
        assert "潞州区太东街道金融社区食堂" in names
        assert "潞城区辛安泉镇西流北村老年日间照料中心" in names
        assert session.scalar(select(func.count()).select_from(Resident)) == 24
        assert session.scalar(select(func.count()).where(Facility.is_demo.is_(False))) == 0
        assert session.scalar(select(func.count()).where(Resident.is_demo.is_(False))) == 0


def test_resident_ages_span_63_to_over_100(services):
    ages = [services.get_resident(f"r-{i:04d}").age for i in range(1, 25)]
    assert min(ages) == 63 and max(ages) >= 100
    assert sum(age >= 90 for age in ages) >= 4


def test_every_canteen_has_three_meals_for_21_days(services):
    with Session(services.engine) as session:
        canteens = session.scalars(select(Facility.id).where(Facility.kind == "canteen")).all()
        for canteen in canteens:
            count = session.scalar(select(func.count()).where(
                MealService.canteen_id == canteen,
                MealService.service_date >= TODAY,
                MealService.service_date <= TODAY + timedelta(days=20)))
            assert count == 21 * 3, canteen
    lunch = services.menu("ct-kangle", TODAY, "lunch")[0]
    assert lunch.dishes and 40 <= lunch.capacity <= 80
    assert lunch.price_cents == 1200 and lunch.subsidised_price_cents == 800


def test_seed_twice_changes_nothing(services):
    before = _snapshot(services)
    services.create_all_and_seed(TODAY)
    assert _snapshot(services) == before


def test_seed_on_a_later_day_tops_up_menus_and_payments(services):
    later = TODAY + timedelta(days=30)  # 5 December
    with Session(services.engine) as session, session.begin():
        seed(session, later)
    with Session(services.engine) as session:
        last = session.scalar(select(func.max(MealService.service_date)).where(MealService.canteen_id == "ct-zhaowang"))
        assert last == later + timedelta(days=20)
        # nothing inserted twice
        assert session.scalar(select(func.count()).select_from(Resident)) == 24
        assert session.scalar(select(func.count()).select_from(FamilyMember)) == 15
    status = services.subsidy_status("r-0001", "gaoling")[0]
    months = {p.month: p.status for p in status.payments}
    assert months["2025-11"] == "paid" and months["2025-12"] == "pending"
    with Session(services.engine) as session:
        apps = session.scalar(select(func.count()).select_from(SubsidyApplication))
        payments = session.scalar(select(func.count()).select_from(SubsidyPayment))
    with Session(services.engine) as session, session.begin():
        seed(session, later)
    with Session(services.engine) as session:
        assert session.scalar(select(func.count()).select_from(SubsidyApplication)) == apps
        assert session.scalar(select(func.count()).select_from(SubsidyPayment)) == payments
