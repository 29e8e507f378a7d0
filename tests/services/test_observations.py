"""Complaints (services.observations) and loneliness signals (services.care_signals), on SQLite and PostgreSQL.

The seeded day is Wednesday 5 November 2025, 10:00 in Shanxi. Each test uses residents of its own, so the
rules' counts (three times in seven days, twice in three) see only what the test said.
"""
from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest

from services.care_signals import CUE_KINDS
from services.errors import InvalidRequest, UnknownResident
from services.observations import ALERT_REASONS, OBSERVATION_KINDS
from zhtext.feelings import LONELINESS_KINDS
from zhtext.symptoms import SYMPTOM_KINDS

from .conftest import TODAY, new_key


@contextlib.contextmanager
def at(clock, delta: timedelta):
    """Run with the clock moved by `delta`, then put it back (the clock is shared by the module)."""
    before = clock.now
    clock.now = before + delta
    try:
        yield
    finally:
        clock.now = before


def health_notes(services, resident_id):
    return [n for n in services.pending_notifications() if n.kind == "health" and n.resident_id == resident_id]


def test_the_kinds_are_zhtexts():
    assert OBSERVATION_KINDS == SYMPTOM_KINDS
    assert CUE_KINDS == LONELINESS_KINDS


# --- complaints ---------------------------------------------------------------------------------------------


def test_an_everyday_complaint_is_recorded_and_alerts_nobody(services):
    obs = services.record_symptom("r-0009", "sleep", "睡不着觉", text="黑夜睡不着觉", source="speaker",
                                  idempotency_key=new_key("s"))
    assert obs.id and obs.kind == "sleep" and obs.text == "黑夜睡不着觉" and obs.source == "speaker"
    assert not obs.alerted and obs.alert_reason is None and obs.notified == () and obs.family_told == ()
    assert obs.times_in_week == 1
    assert obs.clinic_name == "晋华街道社区卫生服务站"  # r-0009 lives in 康乐社区, beside it
    assert health_notes(services, "r-0009") == []


def test_swelling_for_days_tells_the_consenting_family_and_the_desk(services):
    obs = services.record_symptom("r-0002", "swelling", "两条腿肿了", text="两条腿肿了好几天了", body_part="腿",
                                  days=3, source="speaker", idempotency_key=new_key("s"))
    assert obs.alerted and obs.alert_reason == "swelling_days"
    assert obs.notified == ("女儿李红霞", "老伴刘淑芬", "值班话务员")
    assert obs.family_told == ("女儿", "老伴")
    notes = health_notes(services, "r-0002")
    assert len(notes) == 3
    assert "【健康关注】李福生" in notes[0].message and "腿肿" in notes[0].message and "3天" in notes[0].message
    assert notes[0].help_request_id is None  # a care matter, not a call for help


def test_one_day_of_swelling_is_only_recorded(services):
    obs = services.record_symptom("r-0011", "swelling", "脚肿了", body_part="脚", days=1, source="text",
                                  idempotency_key=new_key("s"))
    assert not obs.alerted


def test_the_non_consenting_family_member_is_never_told(services):
    obs = services.record_symptom("r-0001", "nausea", "恶心", text="吃了降压药以后就恶心", after_medicine=True,
                                  source="speaker", idempotency_key=new_key("s"))
    assert obs.alert_reason == "after_medicine"
    assert obs.notified == ("儿子张建国", "值班话务员")  # not the 儿媳, who has no consent
    assert "可能是药的反应" in health_notes(services, "r-0001")[-1].message


def test_pain_that_stops_walking_alerts(services):
    obs = services.record_symptom("r-0003", "pain", "膝盖疼", text="膝盖疼得走不动道", body_part="膝盖",
                                  limits_walking=True, source="phone", idempotency_key=new_key("s"))
    assert obs.alert_reason == "walking" and obs.notified == ("孙子赵小军", "值班话务员")
    assert "膝盖疼" in health_notes(services, "r-0003")[-1].message


def test_not_eating_said_twice_within_three_days_alerts_the_second_time(services, clock):
    with at(clock, -timedelta(days=2)):
        first = services.record_symptom("r-0004", "appetite", "啥也不想吃", source="speaker",
                                        idempotency_key=new_key("s"))
    second = services.record_symptom("r-0004", "appetite", "不想吃饭", source="speaker", idempotency_key=new_key("s"))
    assert not first.alerted
    assert second.alerted and second.alert_reason == "appetite" and second.notified == ("儿子郝建平", "值班话务员")
    assert "三天里说了两次" in health_notes(services, "r-0004")[-1].message


def test_not_eating_twice_but_four_days_apart_does_not(services, clock):
    with at(clock, -timedelta(days=4)):
        services.record_symptom("r-0012", "appetite", "没胃口", source="speaker", idempotency_key=new_key("s"))
    assert not services.record_symptom("r-0012", "appetite", "吃不下", source="speaker",
                                       idempotency_key=new_key("s")).alerted


def test_fever_and_worsening_for_days(services):
    fever = services.record_symptom("r-0014", "fever", "发烧", days=2, source="text", idempotency_key=new_key("s"))
    assert fever.alert_reason == "fever_days"
    worse = services.record_symptom("r-0014", "cough", "咳嗽", days=3, worse=True, source="text",
                                    idempotency_key=new_key("s"))
    assert worse.alert_reason == "worse_lasting"


def test_the_same_complaint_three_times_in_a_week_alerts_once_a_day(services, clock):
    key = lambda: new_key("s")  # noqa: E731
    with at(clock, -timedelta(days=6)):
        one = services.record_symptom("r-0006", "dizziness", "头晕", source="speaker", idempotency_key=key())
    with at(clock, -timedelta(days=3)):
        two = services.record_symptom("r-0006", "dizziness", "头昏", source="speaker", idempotency_key=key())
    three = services.record_symptom("r-0006", "dizziness", "晕乎乎", source="speaker", idempotency_key=key())
    assert (one.alerted, two.alerted, three.alerted) == (False, False, True)
    assert three.alert_reason == "repeated" and three.times_in_week == 3
    assert three.notified == ("值班话务员",)  # r-0006 has no family on record: the desk alone
    with at(clock, timedelta(hours=3)):
        four = services.record_symptom("r-0006", "dizziness", "还是头晕", source="speaker", idempotency_key=key())
    assert not four.alerted and four.times_in_week == 4  # told three hours ago: not again the same day
    with at(clock, timedelta(days=1, hours=1)):
        five = services.record_symptom("r-0006", "dizziness", "头晕", source="speaker", idempotency_key=key())
    assert five.alerted  # a day later, still going on: told again
    assert len(health_notes(services, "r-0006")) == 2


def test_a_complaint_eight_days_old_does_not_count_toward_three(services, clock):
    with at(clock, -timedelta(days=8)):
        services.record_symptom("r-0021", "cough", "咳嗽", source="text", idempotency_key=new_key("s"))
    services.record_symptom("r-0021", "cough", "咳嗽", source="text", idempotency_key=new_key("s"))
    third = services.record_symptom("r-0021", "cough", "咳嗽", source="text", idempotency_key=new_key("s"))
    assert not third.alerted and third.times_in_week == 2


def test_recording_is_idempotent(services):
    key = new_key("s")
    first = services.record_symptom("r-0010", "swelling", "脚肿", body_part="脚", days=5, source="speaker",
                                    idempotency_key=key)
    again = services.record_symptom("r-0010", "swelling", "脚肿", body_part="脚", days=5, source="speaker",
                                    idempotency_key=key)
    assert first == again and first.alerted
    assert len(health_notes(services, "r-0010")) == 2  # 儿子陈立新 and the desk, once


@pytest.mark.parametrize(
    "kwargs",
    [dict(kind="headache_xyz"), dict(words=" "), dict(days=-1), dict(days=True), dict(days=99999),
     dict(idempotency_key="")],
)
def test_malformed_complaints_are_refused(services, kwargs):
    args = dict(kind="pain", words="腰疼", source="text", idempotency_key=new_key("bad")) | kwargs
    kind, words = args.pop("kind"), args.pop("words")
    with pytest.raises(InvalidRequest):
        services.record_symptom("r-0015", kind, words, **args)


def test_unknown_resident(services):
    with pytest.raises(UnknownResident):
        services.record_symptom("r-9999", "pain", "腰疼", source="text", idempotency_key=new_key("s"))


def test_id_numbers_never_stored(services):
    obs = services.record_symptom("r-0015", "pain", "腰疼", text="我身份证142701194001011234，腰疼",
                                  source="text", idempotency_key=new_key("s"))
    assert "142701194001011234" not in obs.text


def test_the_desk_sees_the_complaints_that_alerted(services):
    alerted = services.record_symptom("r-0016", "swelling", "腿肿", body_part="腿", days=4, source="speaker",
                                      idempotency_key=new_key("s"))
    quiet = services.record_symptom("r-0016", "sleep", "睡不好", source="speaker", idempotency_key=new_key("s"))
    desk = services.observations_for_desk()
    ids = [o.id for o in desk]
    assert alerted.id in ids and quiet.id not in ids
    assert all(o.alerted and o.alert_reason in ALERT_REASONS for o in desk)
    assert [o.created_at for o in desk] == sorted((o.created_at for o in desk), reverse=True)
    assert next(o for o in desk if o.id == alerted.id).resident_name == "耿彩霞"
    everything = [o.id for o in services.observations_for_desk(alerted_only=False)]
    assert alerted.id in everything and quiet.id in everything
    assert [o.id for o in services.resident_observations("r-0016")][:2] == [quiet.id, alerted.id]
    with pytest.raises(InvalidRequest):
        services.observations_for_desk(days=0)


# --- loneliness ---------------------------------------------------------------------------------------------


def test_loneliness_is_never_an_alarm(services):
    before_notes = len(services.pending_notifications())
    before_help = len(services.open_help_requests())
    view = services.record_loneliness("r-0009", "就我一个人", text="家里就我一个人，闷得慌", source="speaker",
                                      idempotency_key=new_key("c"))
    assert view.signal.kind == "lonely" and view.signal.text == "家里就我一个人，闷得慌"
    assert len(services.pending_notifications()) == before_notes
    assert len(services.open_help_requests()) == before_help


def test_the_offer_is_an_activity_later_today_nearby(services):
    view = services.record_loneliness("r-0002", "闷得慌", source="speaker", idempotency_key=new_key("c"))
    offer = view.offer
    assert offer.kind == "activity" and view.signal.offer == "activity"
    assert offer.activity_day == TODAY and offer.activity.weekday == TODAY.weekday()
    assert offer.activity.start > "10:00"  # the 09:00 class has begun; 10:00 begins right now
    assert offer.activity.facility_id in ("cc-kangle", "cc-zanjia")


def test_the_offer_is_tomorrows_activity_late_in_the_evening(services, clock):
    with at(clock, timedelta(hours=10)):  # 20:00: today's are over
        view = services.record_loneliness("r-0022", "没人说话", source="speaker", idempotency_key=new_key("c"))
    assert view.offer.kind == "activity" and view.offer.activity_day == TODAY + timedelta(days=1)


def test_missing_a_son_offers_a_call_to_him(services):
    view = services.record_loneliness("r-0017", "儿子都不来看我", cue_kind="family_away", relation="儿子",
                                      source="speaker", idempotency_key=new_key("c"))
    assert view.offer.kind == "family"
    assert (view.offer.family.relation, view.offer.family.name) == ("儿子", "王晓东")


def test_without_activity_or_family_a_visit_is_offered_not_booked(services):
    # r-0007 lives alone in 云竹村: no activity within reach, no family on record
    def tickets():
        return [t for t in services.list_tickets(limit=1000) if t.resident_id == "r-0007"]

    assert tickets() == []
    key = new_key("c")
    first = services.record_loneliness("r-0007", "想找个人说说话", cue_kind="wants_company", source="speaker",
                                       idempotency_key=key)
    assert first.offer.kind == "visit" and first.signal.offer == "visit"
    assert first.offer.ticket is None and not first.offer.already_arranged  # asked, not filed: the elder says yes first
    assert tickets() == []
    assert services.record_loneliness("r-0007", "想找个人说说话", cue_kind="wants_company", source="speaker",
                                      idempotency_key=key) == first
    assert tickets() == []
    # the elder said yes: the assistant files the 陪聊 ticket (actions.visits.book_visit)
    ticket = services.create_ticket("r-0007", "companionship", None, "探访关爱：想找个人说说话", new_key("visit"),
                                    "resident:r-0007")
    assert ticket.service_code == "companionship" and ticket.service_name == "陪聊" and ticket.status == "open"
    second = services.record_loneliness("r-0007", "陪我聊会儿吧", cue_kind="wants_company", source="speaker",
                                        idempotency_key=new_key("c"))
    assert second.offer.already_arranged and second.offer.ticket.id == ticket.id
    assert [t.id for t in services.open_tickets("r-0007") if t.service_code == "companionship"] == [ticket.id]
    # a replay of the first signal (the same key) tells the truth of now: arranged, still not a second ticket
    replay = services.record_loneliness("r-0007", "想找个人说说话", cue_kind="wants_company", source="speaker",
                                        idempotency_key=key)
    assert replay.signal == first.signal and replay.offer.already_arranged and replay.offer.ticket.id == ticket.id
    assert [t.id for t in tickets()] == [ticket.id]


def test_a_signal_is_idempotent(services):
    key = new_key("c")
    first = services.record_loneliness("r-0019", "孤单", source="speaker", idempotency_key=key)
    again = services.record_loneliness("r-0019", "孤单", source="speaker", idempotency_key=key)
    assert first == again


def test_the_desk_lists_recurring_loneliness_and_anyone_alone(services):
    # r-0012 does not live alone: on the list from the second time
    once = services.record_loneliness("r-0012", "闷得慌", source="speaker", idempotency_key=new_key("c"))
    assert not once.on_desk and once.times_in_week == 1
    assert "r-0012" not in {v.resident_id for v in services.care_signals_for_desk()}
    twice = services.record_loneliness("r-0012", "没人跟我说话", text="一天到晚没人跟我说话", source="phone",
                                       idempotency_key=new_key("c"))
    assert twice.on_desk and twice.times_in_week == 2
    # r-0018 lives alone: on the list from the first time
    alone = services.record_loneliness("r-0018", "孩子们都不来看我", cue_kind="family_away", source="speaker",
                                       idempotency_key=new_key("c"))
    assert alone.on_desk
    desk = {v.resident_id: v for v in services.care_signals_for_desk()}
    entry = desk["r-0012"]
    assert (entry.resident_name, entry.reason, entry.times, entry.lives_alone) == ("吴凤英", "repeated", 2, False)
    assert [s.text or s.words for s in entry.recent] == ["一天到晚没人跟我说话", "闷得慌"]  # newest first
    assert entry.phone == "13935420012"  # unmasked: the desk rings back
    assert entry.first_at <= entry.last_at
    assert (desk["r-0018"].reason, desk["r-0018"].times) == ("lives_alone", 1)
    times = [v.times for v in desk.values()]
    assert times == sorted(times, reverse=True)


def test_loneliness_a_week_ago_has_left_the_desk(services, clock):
    with at(clock, -timedelta(days=8)):
        services.record_loneliness("r-0023", "闷得慌", source="speaker", idempotency_key=new_key("c"))
        services.record_loneliness("r-0023", "孤单", source="speaker", idempotency_key=new_key("c"))
    assert "r-0023" not in {v.resident_id for v in services.care_signals_for_desk()}
    assert "r-0023" in {v.resident_id for v in services.care_signals_for_desk(days=10)}


@pytest.mark.parametrize("kwargs", [dict(cue_kind="sad"), dict(words=""), dict(idempotency_key="")])
def test_malformed_signals_are_refused(services, kwargs):
    args = dict(words="孤单", source="text", idempotency_key=new_key("bad")) | kwargs
    words = args.pop("words")
    with pytest.raises(InvalidRequest):
        services.record_loneliness("r-0020", words, **args)


# --- the migration ------------------------------------------------------------------------------------------


def test_migration_0007_goes_down_and_up_with_rows_present(db_url, clock, tmp_path):
    """0007 only adds two tables: down removes them (and nothing else), up brings them back empty. On a
    database of its own, so the module's shared one keeps its rows."""
    from alembic import command
    from sqlalchemy import inspect

    from services.db import make_engine
    from services.facade import Services
    from services.migrate import alembic_config
    from tests.pg import temp_schema

    def run(url):
        svc = Services(url, clock=clock, outbox=tmp_path / "outbox.jsonl")
        try:
            svc.create_all_and_seed(TODAY)
            svc.record_symptom("r-0002", "swelling", "腿肿", days=3, source="text", idempotency_key=new_key("m"))
            svc.record_loneliness("r-0002", "孤单", source="text", idempotency_key=new_key("m"))
            svc.engine.dispose()
            command.downgrade(alembic_config(url), "0006_conversation_log")
            engine = make_engine(url)
            try:
                tables = set(inspect(engine).get_table_names())
                assert not {"health_observations", "care_signals"} & tables
                assert {"notifications", "service_tickets", "residents"} <= tables
            finally:
                engine.dispose()
            command.upgrade(alembic_config(url), "head")
            assert svc.resident_observations("r-0002") == []
            assert svc.record_symptom("r-0002", "cough", "咳嗽", source="text", idempotency_key=new_key("m")).id
        finally:
            svc.close()

    if db_url.startswith("sqlite"):
        run(f"sqlite:///{tmp_path / 'mig.db'}")
    else:
        with temp_schema() as url:
            run(url)
