"""The hotline's settings from the environment."""
import os
from pathlib import Path

import pytest

from common.paths import var_dir
from phone.errors import PhoneConfigError
from phone.settings import PhoneConfig


def test_from_an_empty_environment_the_defaults(monkeypatch):
    for name in [n for n in os.environ if n.startswith("YINLING_")]:
        monkeypatch.delenv(name)
    config = PhoneConfig.from_env()
    assert config == PhoneConfig() and config.audio_dir == var_dir("calls", create=False)


def test_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("YINLING_CALL_AUDIO_DIR", str(tmp_path / "calls"))
    monkeypatch.setenv("YINLING_CALL_MAX_S", "8")
    monkeypatch.setenv("YINLING_OPERATOR_URI", "sip:operator@127.0.0.1:5070")
    config = PhoneConfig.from_env()
    assert config.audio_dir == Path(tmp_path / "calls") and config.max_call_s == 8.0
    assert config.operator_uri == "sip:operator@127.0.0.1:5070"


def test_a_bad_number_is_a_phone_config_error(monkeypatch):
    monkeypatch.setenv("YINLING_CALL_MAX_S", "half an hour")
    with pytest.raises(PhoneConfigError):
        PhoneConfig.from_env()
