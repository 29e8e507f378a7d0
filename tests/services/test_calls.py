"""Hotline calls: caller ID and call records (SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from services.calls import MAX_TRANSCRIPT_LINES, UnknownCall, normalise_number
from services.errors import InvalidRequest
from services.models import FamilyMember
from services.types import CallerView
from tests.services.conftest import new_key


@pytest.mark.parametrize("raw, digits", [
    ("+86 138-3541-0001", "13835410001"), ("008613835410001", "13835410001"), ("8613835410001", "13835410001"),
    ("tel:13835410001", "13835410001"), ("0354-1234567", "03541234567"), ("", ""), (None, ""),
])
def test_numbers_are_normalised(raw, digits):
    assert normalise_number(raw) == digits


def test_a_residents_own_number_names_the_resident(services):
    caller = services.identify_caller("+86 138 3541 0001")
    assert (caller.kind, caller.resident_id, caller.name) == ("resident", "r-0001", "王桂兰")
    assert caller.address and "东街3号" in caller.address


def test_a_family_members_number_names_only_the_consenting_elders(services):
    son = services.identify_caller("13835411001")  # 张建国, consented by r-0001
    assert son.kind == "family" and son.family_member_id == "f-0001" and son.relation == "儿子"
    assert son.residents == (("r-0001", "王桂兰"),)
    no_consent = services.identify_caller("13935411002")  # 李秀梅: no consent on record
    assert no_consent.kind == "family" and no_consent.residents == ()
    with Session(services.engine) as db, db.begin():
        db.add(FamilyMember(id="f-9801", resident_id="r-0003", name="张建国", relation="儿子", phone="13835411001",
                            consent=True))
    both = services.identify_caller("13835411001")
    assert {r for r, _ in both.residents} == {"r-0001", "r-0003"}


@pytest.mark.parametrize("number", ["02112345678", "", "anonymous", "123"])
def test_unknown_and_anonymous_callers(services, number):
    caller = services.identify_caller(number)
    assert caller.kind == "unknown" and caller.resident_id is None


def test_a_call_record_from_first_ring_to_end(services):
    sip_id = new_key("sip")
    caller = services.identify_caller("13835410003")
    record = services.start_call(sip_id, caller)
    assert services.start_call(sip_id, caller).id == record.id, "a retransmitted INVITE opens no second record"
    assert record.caller_number == "138****0003", "masked unless an operator asks"
    assert services.get_call(record.id, unmasked=True).caller_number == "13835410003"
    lines = [{"role": "bot", "text": "赵大爷您好", "ts": 1.0},
             {"role": "elder", "text": "我的身份证是140421194501011234", "ts": 2.0}]
    done = services.finish_call(record.id, "completed", intents=["greet", ""], digits="1*", transcript=lines)
    assert done.outcome == "completed" and done.ended_at == services.now()
    assert done.intents == ("greet",) and done.digits == "1*"
    assert "140421194501011234" not in str(done.transcript), "ID numbers never stored"
    again = services.finish_call(record.id, "caller_hung_up", intents=[], digits="", transcript=[])
    assert again.outcome == "completed", "a late second finish changes nothing"
    assert record.id in {c.id for c in services.calls(resident_id="r-0003")}


def test_bad_outcomes_ids_and_residents_are_refused(services):
    record = services.start_call(new_key("sip"), CallerView("unknown", "02100000000"))
    with pytest.raises(InvalidRequest):
        services.finish_call(record.id, "exploded", intents=[], digits="", transcript=[])
    with pytest.raises(InvalidRequest):
        services.update_call(record.id, resident_id="r-9999")
    with pytest.raises(UnknownCall):
        services.get_call(987654)
    chosen = services.update_call(record.id, resident_id="r-0002", transfer_target="sip:op@127.0.0.1")
    assert chosen.resident_id == "r-0002" and chosen.transfer_target == "sip:op@127.0.0.1"


def test_an_hour_long_transcript_is_bounded(services):
    record = services.start_call(new_key("sip"), CallerView("unknown", "02100000001"))
    lines = [{"role": "bot", "text": f"第{i}句", "ts": float(i)} for i in range(MAX_TRANSCRIPT_LINES * 3)]
    done = services.finish_call(record.id, "timed_out", intents=[], digits="0" * 100, transcript=lines)
    assert len(done.transcript) == MAX_TRANSCRIPT_LINES and done.transcript[-1]["text"] == lines[-1]["text"]
    assert len(done.digits) == 40


def test_recorded_audio_is_deleted_after_its_retention(services, clock, tmp_path):
    audio = tmp_path / "call.wav"
    audio.write_bytes(b"RIFF")
    record = services.start_call(new_key("sip"), CallerView("unknown", "02100000002"))
    services.finish_call(record.id, "completed", intents=[], digits="", transcript=[], audio_path=str(audio),
                         audio_retention=timedelta(days=30))
    assert services.purge_call_audio() == 0 and audio.exists()
    start = clock.now
    clock.now = start + timedelta(days=31)
    try:
        assert services.purge_call_audio() == 1
    finally:
        clock.now = start
    assert not audio.exists()
    kept = services.get_call(record.id)
    assert kept.audio_path is None and kept.outcome == "completed", "the record and transcript stay"
