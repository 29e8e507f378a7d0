import pytest

from services.eligibility import Facts, evaluate
from services.errors import UnknownProgramme


def _by_code(views):
    return {v.programme.code: v for v in views}


def test_programmes_listed(services):
    names = {p.name for p in services.programmes()}
    assert {"高龄津贴", "经济困难失能老年人补贴", "适老化改造", "探访关爱"} <= names


@pytest.mark.parametrize(
    "resident_id, eligible, reason, amount",
    [
        ("r-0001", True, "age_band", 5000),    # 82
        ("r-0003", True, "age_band", 10000),   # 91
        ("r-0004", True, "age_band", 30000),   # 101
        ("r-0011", True, "age_band", 5000),    # exactly 80
        ("r-0009", False, "too_young", None),  # 63
        ("r-0012", False, "too_young", None),  # 69
    ],
)
def test_gaoling_jintie_by_age_band(services, resident_id, eligible, reason, amount):
    [view] = services.eligibility(resident_id, "gaoling")
    assert (view.eligible, view.reason_code, view.amount_cents_per_month) == (eligible, reason, amount)


def test_programme_by_chinese_name(services):
    [view] = services.eligibility("r-0001", "高龄津贴")
    assert view.programme.code == "gaoling"


def test_hardship_disability_and_assessment_rules(services):
    r10 = _by_code(services.eligibility("r-0010"))  # 94, hardship, disability 2
    assert (r10["shineng"].eligible, r10["shineng"].amount_cents_per_month) == (True, 10000)
    r20 = _by_code(services.eligibility("r-0020"))  # disability 3
    assert r20["shineng"].amount_cents_per_month == 20000
    r5 = _by_code(services.eligibility("r-0005"))  # 67, hardship, no disability
    assert (r5["shineng"].eligible, r5["shineng"].reason_code) == (False, "not_disabled")
    assert (r5["shilaohua"].eligible, r5["shilaohua"].reason_code) == (True, "needs_assessment")
    r1 = _by_code(services.eligibility("r-0001"))
    assert (r1["shineng"].eligible, r1["shineng"].reason_code) == (False, "not_hardship")
    assert r1["tanfang"].eligible  # 80+ and living alone
    r12 = _by_code(services.eligibility("r-0012"))  # 69, not alone, not hardship
    assert (r12["tanfang"].eligible, r12["tanfang"].reason_code) == (False, "not_target_group")


def test_unknown_programme(services):
    with pytest.raises(UnknownProgramme):
        services.eligibility("r-0001", "free_money")
    with pytest.raises(UnknownProgramme):
        services.subsidy_status("r-0001", "free_money")


def test_subsidy_status_with_payments(services):
    [app] = services.subsidy_status("r-0001", "gaoling")
    assert app.status == "approved" and app.decided_on is not None
    months = [(p.month, p.status, p.amount_cents) for p in app.payments]
    assert months[-1] == ("2025-11", "pending", 5000)
    assert months[-2] == ("2025-10", "paid", 5000)
    assert all(p.paid_on for p in app.payments[:-1]) and app.payments[-1].paid_on is None
    assert len(app.payments) >= 3


def test_subsidy_status_lists_every_application(services):
    statuses = {a.programme.code: a.status for a in services.subsidy_status("r-0010")}
    assert statuses == {"gaoling": "approved", "shineng": "approved", "shilaohua": "reviewing"}
    assert services.subsidy_status("r-0002") == []


def test_rule_interpreter_is_data_driven():
    rules = {"min_age": 60, "any_of": [{"requires": ["lives_alone"]}, {"min_age": 85}],
             "bands": [{"min_age": 60, "max_age": 69, "amount_cents": 100}, {"min_age": 70, "amount_cents": 200}]}
    young_alone = Facts(age=65, special_hardship=False, lives_alone=True, disability_level=0)
    assert evaluate(rules, young_alone).amount_cents_per_month == 100
    old_with_family = Facts(age=75, special_hardship=False, lives_alone=False, disability_level=0)
    assert evaluate(rules, old_with_family).reason_code == "not_target_group"
    with pytest.raises(ValueError):
        evaluate({"requires": ["rich"]}, young_alone)
