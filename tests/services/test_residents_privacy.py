import re

import pytest
from sqlalchemy import text

from services import config
from services.errors import UnknownResident
from services.privacy import hash_id_number, mask_phone, scrub, scrub_text
from services.residents import honorific

from .conftest import new_key


def test_r0001_is_an_82_year_old_woman_in_zhaowang(services):
    r = services.get_resident("r-0001")
    assert (r.gender, r.age, r.village, r.lives_alone) == ("女", 82, "赵王村", True)
    assert r.home_canteen_id == "ct-zhaowang" and r.home_canteen_name == "赵王村驿站老年食堂"
    assert r.home_station_name == "榆社县北寨乡赵王村居家养老服务驿站"
    assert r.honorific == "王奶奶"


def test_r0002_is_a_76_year_old_man_in_kangle(services):
    r = services.get_resident("r-0002")
    assert (r.gender, r.age, r.village, r.honorific) == ("男", 76, "康乐社区", "李大爷")


def test_honorific_rules():
    assert honorific("王福全", "男", 68) == "王叔"
    assert honorific("吴凤英", "女", 69) == "吴阿姨"
    assert honorific("欧阳秀英", "女", 90) == "欧阳奶奶"


def test_unknown_resident(services):
    with pytest.raises(UnknownResident) as info:
        services.get_resident("r-9999")
    assert info.value.resident_id == "r-9999"


def test_phone_is_masked_in_views(services):
    assert services.get_resident("r-0001").phone_masked == "138****0001"
    assert all("****" in (f.phone_masked or "****") for f in services.family_members("r-0001"))


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(None) is None
    assert mask_phone("0354-6630101") == "035****0101"


def test_id_number_hash_is_salted_and_never_raw(services):
    raw = "14072119430312002X"
    hashed = hash_id_number(raw, "salt-a")
    assert re.fullmatch(r"[0-9a-f]{64}", hashed)
    assert hashed == hash_id_number(raw.lower(), "salt-a")
    assert hashed != hash_id_number(raw, "salt-b")
    assert raw not in hashed
    with services.engine.connect() as conn:
        hashes = conn.execute(text("SELECT id_number_hash FROM residents")).scalars().all()
    assert len(hashes) == 24 and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
    assert config.id_salt()


def test_id_numbers_never_reach_audit_or_stored_help_text(services):
    raw = "140721194303120028"
    services.raise_help("r-0003", f"我的身份证是{raw}，快来人", "speaker", new_key("h"))
    services.audit("operator:op-01", "note", "resident:r-0003", {"said": f"身份证{raw} 电话13812345678"})
    with services.engine.connect() as conn:
        dump = " ".join(
            str(row) for table in ("help_requests", "audit_log", "notifications")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        )
    assert raw not in dump
    assert "13812345678" not in dump and "138****5678" in dump


def test_scrub_keeps_structure():
    assert scrub({"a": ["身份证 140721194303120028"], "n": 3}) == {"a": ["身份证 [身份证号已隐去]"], "n": 3}
    assert scrub_text("打13812345678") == "打138****5678"
