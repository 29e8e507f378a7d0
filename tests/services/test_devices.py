"""Speaker devices: satellites and WebSocket speakers bound to residents (SQLite and PostgreSQL)."""

import pytest

from services.errors import InvalidRequest, UnknownDevice, UnknownResident


def test_register_list_and_rebind(services):
    sat = services.register_device("spk-t1", "wyoming", "tcp://127.0.0.1:10700", "r-0001", "客厅音箱", actor="op-1")
    assert (sat.kind, sat.uri, sat.resident_id, sat.enabled) == ("wyoming", "tcp://127.0.0.1:10700", "r-0001", True)
    ws = services.register_device("spk-t2", "websocket", None, "r-0002", "卧室音箱")
    assert ws.uri is None
    assert {d.id for d in services.devices("wyoming")} >= {"spk-t1"}
    assert "spk-t2" not in {d.id for d in services.devices("wyoming")}
    # running the set-up again rebinds instead of failing
    again = services.register_device("spk-t1", "wyoming", "tcp://127.0.0.1:10700", "r-0003", "客厅音箱")
    assert again.resident_id == "r-0003"
    assert services.get_device("spk-t1").resident_id == "r-0003"


def test_disabled_devices_are_not_listed_and_seen_time_is_kept(services):
    services.register_device("spk-t3", "wyoming", "tcp://127.0.0.1:10799", "r-0004", "厨房")
    services.set_device_enabled("spk-t3", False)
    assert "spk-t3" not in {d.id for d in services.devices()}
    assert "spk-t3" in {d.id for d in services.devices(enabled_only=False)}
    services.device_seen("spk-t3")
    assert services.get_device("spk-t3").last_seen_at == services.now()


@pytest.mark.parametrize("kind, uri", [("wyoming", None), ("wyoming", "http://x:1"), ("wyoming", "tcp://host"),
                                       ("bluetooth", None)])
def test_bad_devices_are_refused(services, kind, uri):
    with pytest.raises(InvalidRequest):
        services.register_device("spk-bad", kind, uri, "r-0001", "x")


def test_unknown_resident_and_device(services):
    with pytest.raises(UnknownResident):
        services.register_device("spk-t4", "websocket", None, "r-9999", "x")
    with pytest.raises(UnknownDevice):
        services.get_device("spk-none")
