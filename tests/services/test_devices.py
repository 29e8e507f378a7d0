"""Speaker devices: satellites and WebSocket speakers bound to residents (SQLite and PostgreSQL)."""

import pytest

from services.errors import DeviceUriTaken, InvalidRequest, UnknownDevice, UnknownResident
from services.types import DeviceEndpoint


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


def test_end_of_speech_settings_are_per_device_and_none_means_default(services):
    services.register_device("spk-e1", "websocket", None, "r-0001", "慢慢说")
    assert services.get_device("spk-e1").endpoint == DeviceEndpoint()  # nothing set: the gateway's values
    set_ = services.set_device_endpoint("spk-e1", DeviceEndpoint(trailing_silence_s=2, no_speech_timeout_s=20.5))
    assert set_.endpoint == DeviceEndpoint(trailing_silence_s=2.0, max_utterance_s=None, no_speech_timeout_s=20.5)
    assert services.get_device("spk-e1").endpoint == set_.endpoint  # stored, not just echoed
    assert isinstance(services.get_device("spk-e1").endpoint.trailing_silence_s, float)
    # registering again (a re-run set-up) rebinds but keeps the device's own settings
    services.register_device("spk-e1", "websocket", None, "r-0002", "慢慢说")
    assert services.get_device("spk-e1").endpoint == set_.endpoint
    # the whole triple is replaced: None goes back to the default
    services.set_device_endpoint("spk-e1", DeviceEndpoint(max_utterance_s=30))
    assert services.get_device("spk-e1").endpoint == DeviceEndpoint(max_utterance_s=30.0)
    assert [d.endpoint for d in services.devices() if d.id == "spk-e1"] == [DeviceEndpoint(max_utterance_s=30.0)]


@pytest.mark.parametrize("endpoint, reason", [
    (DeviceEndpoint(trailing_silence_s=0.29), "trailing_silence_out_of_range"),
    (DeviceEndpoint(trailing_silence_s=5.01), "trailing_silence_out_of_range"),
    (DeviceEndpoint(trailing_silence_s=float("nan")), "trailing_silence_out_of_range"),
    (DeviceEndpoint(max_utterance_s=2.9), "max_utterance_out_of_range"),
    (DeviceEndpoint(max_utterance_s=float("inf")), "max_utterance_out_of_range"),
    (DeviceEndpoint(no_speech_timeout_s=1.5), "no_speech_timeout_out_of_range"),
    (DeviceEndpoint(no_speech_timeout_s=61), "no_speech_timeout_out_of_range"),
    (DeviceEndpoint(no_speech_timeout_s=True), "no_speech_timeout_out_of_range"),
    (DeviceEndpoint(no_speech_timeout_s="8"), "no_speech_timeout_out_of_range"),
    (DeviceEndpoint(trailing_silence_s=4, max_utterance_s=3.5), "trailing_silence_not_below_cap"),
])
def test_end_of_speech_settings_out_of_bounds_are_refused_and_nothing_changes(services, endpoint, reason):
    services.register_device("spk-e2", "websocket", None, "r-0001", "x")
    services.set_device_endpoint("spk-e2", DeviceEndpoint(trailing_silence_s=1.0))
    with pytest.raises(InvalidRequest) as err:
        services.set_device_endpoint("spk-e2", endpoint)
    assert err.value.reason == reason
    assert services.get_device("spk-e2").endpoint == DeviceEndpoint(trailing_silence_s=1.0)


def test_end_of_speech_bounds_themselves_are_accepted(services):
    services.register_device("spk-e3", "websocket", None, "r-0001", "x")
    low = DeviceEndpoint(trailing_silence_s=0.3, max_utterance_s=3, no_speech_timeout_s=2)
    high = DeviceEndpoint(trailing_silence_s=5, max_utterance_s=60, no_speech_timeout_s=60)
    assert services.set_device_endpoint("spk-e3", low).endpoint == low
    assert services.set_device_endpoint("spk-e3", high).endpoint == high
    with pytest.raises(UnknownDevice):
        services.set_device_endpoint("spk-none", low)


def test_an_address_another_device_holds_is_refused_by_name_even_when_that_one_is_disabled(services):
    services.register_device("spk-t7", "wyoming", "tcp://127.0.0.1:10777", "r-0001", "客厅")
    services.set_device_enabled("spk-t7", False)
    with pytest.raises(DeviceUriTaken) as refused:
        services.register_device("spk-t8", "wyoming", "tcp://127.0.0.1:10777", "r-0002", "卧室")
    assert "spk-t7, disabled" in str(refused.value) and "yinling devices remove spk-t7" in str(refused.value)
    assert refused.value.code == "device_uri_taken"
    with pytest.raises(UnknownDevice):
        services.get_device("spk-t8")
    # the same device registered again at its own address is a rebind, not a conflict
    assert services.register_device("spk-t7", "wyoming", "tcp://127.0.0.1:10777", "r-0003", "客厅").enabled


def test_a_removed_device_is_gone_and_its_address_free(services):
    services.register_device("spk-t9", "wyoming", "tcp://127.0.0.1:10778", "r-0001", "客厅")
    removed = services.remove_device("spk-t9", actor="op-1")
    assert (removed.id, removed.uri) == ("spk-t9", "tcp://127.0.0.1:10778")
    with pytest.raises(UnknownDevice):
        services.get_device("spk-t9")
    with pytest.raises(UnknownDevice):
        services.remove_device("spk-t9")
    assert services.register_device("spk-t10", "wyoming", "tcp://127.0.0.1:10778", "r-0002", "卧室").uri


def test_a_wake_phrase_is_set_checked_and_cleared(services):
    services.register_device("spk-w1", "wyoming", "tcp://127.0.0.1:10779", "r-0001", "客厅")
    assert services.get_device("spk-w1").wake_phrase is None  # the recogniser language's default
    assert services.set_device_wake_phrase("spk-w1", " 银龄  你好 ").wake_phrase == "银龄 你好"
    assert [d.wake_phrase for d in services.devices("wyoming") if d.id == "spk-w1"] == ["银龄 你好"]
    for bad in ("小", "小银2号", "小银，小银", "一二三四五六七八九十一二三"):
        with pytest.raises(InvalidRequest) as refused:
            services.set_device_wake_phrase("spk-w1", bad)
        assert refused.value.reason == "bad_wake_phrase"
    assert services.get_device("spk-w1").wake_phrase == "银龄 你好"  # a refused phrase changes nothing
    assert services.set_device_wake_phrase("spk-w1", "").wake_phrase is None
    with pytest.raises(UnknownDevice):
        services.set_device_wake_phrase("spk-none", "小银小银")
