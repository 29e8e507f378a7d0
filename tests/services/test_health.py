import pytest

from services.errors import InvalidRequest

from .conftest import new_key


def test_in_range_reading_alerts_nobody(services):
    result = services.record_health("r-0002", "bp", 128, 82, new_key("bp"), "speaker")
    assert result.in_range and not result.low and not result.high and result.alerted == ()


def test_high_blood_pressure_alerts_family_and_desk(services):
    result = services.record_health("r-0002", "bp", 168, 96, new_key("bp"), "speaker")
    assert not result.in_range and result.high and not result.low
    assert result.alerted == ("女儿李红霞", "老伴刘淑芬", "值班话务员")
    health = [n for n in services.pending_notifications() if n.kind == "health" and n.resident_id == "r-0002"]
    assert len(health) == 3 and "血压168/96" in health[0].message


def test_low_spo2_and_glucose(services):
    spo2 = services.record_health("r-0001", "spo2", 90, None, new_key("o2"), "wearable")
    assert spo2.low and not spo2.in_range
    assert spo2.alerted == ("儿子张建国", "值班话务员")  # never the non-consenting 儿媳
    assert services.record_health("r-0001", "glucose", 5.6, None, new_key("g"), "speaker").in_range
    assert services.record_health("r-0001", "血糖", 3.2, None, new_key("g"), "speaker").low


def test_resident_override_threshold(services):
    # r-0010's doctor allows systolic up to 150
    assert services.record_health("r-0010", "bp", 145, 80, new_key("bp"), "speaker").in_range
    assert not services.record_health("r-0002", "bp", 145, 80, new_key("bp"), "speaker").in_range


def test_idempotent_reading(services):
    key = new_key("hr")
    first = services.record_health("r-0003", "heart_rate", 120, None, key, "wearable")
    again = services.record_health("r-0003", "heart_rate", 120, None, key, "wearable")
    assert first == again and first.high
    assert len([n for n in services.pending_notifications() if n.resident_id == "r-0003" and n.kind == "health"]) == 2


@pytest.mark.parametrize(
    "measure, v1, v2",
    [("bp", 120, None), ("bp", 999, 80), ("weight", 60, None), ("temperature", 36.5, 1.0), ("spo2", 150, None)],
)
def test_implausible_or_malformed_readings_rejected(services, measure, v1, v2):
    with pytest.raises(InvalidRequest):
        services.record_health("r-0001", measure, v1, v2, new_key("x"), "speaker")
