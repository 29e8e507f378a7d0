"""Complaints and loneliness through the care actions, on a real seeded SQLite database (no Rasa: the trackers
are rasa_sdk's own). The day is Wednesday 5 November 2025, 10:00 in Shanxi."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import care, care_replies, conversation, replies, runtime
from actions.context import Turn
from services.facade import Services
from zhtext.feelings import detect_loneliness
from zhtext.symptoms import parse_complaint

TODAY = date(2025, 11, 5)
NOW = datetime(2025, 11, 5, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("care")
    services = Services(f"sqlite:///{tmp / 'y.db'}", clock=lambda: NOW, outbox=tmp / "outbox.jsonl")
    services.create_all_and_seed(TODAY)
    yield services
    services.close()


@pytest.fixture(autouse=True)
def wired(svc, monkeypatch):
    monkeypatch.setattr(runtime, "services", lambda: svc)
    monkeypatch.setattr(runtime, "today", lambda: TODAY)


def turn(text: str, sender: str = "r-0002", message_id: str | None = None, intent: str = "report_health",
         slots: dict | None = None) -> Turn:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9},
              "metadata": {"message_id": message_id or uuid.uuid4().hex, "channel": "speaker"}}
    events = [{"event": "user", "text": text, "timestamp": 1.0, "parse_data": {"intent": latest["intent"]}}]
    return Turn(Tracker(sender, slots or {}, latest, events, False, None, {}, "action_listen"), CollectingDispatcher())


def said(t: Turn) -> str:
    return " ".join(m.get("text") or "" for m in t.dispatcher.messages)


def sentences(text: str) -> int:
    return sum(text.count(p) for p in "。？！")


def test_a_lasting_swelling_is_recorded_and_the_family_told(svc):
    t = turn("两条腿肿了好几天了", "r-0002")
    assert care.ActionHealth().handle(t) == []
    text = said(t)
    assert text == "记下了，您这几天腿肿。我已经告诉您女儿和老伴了，会请社区卫生服务站的医生给您打电话。"
    obs = svc.resident_observations("r-0002")[0]
    assert (obs.kind, obs.body_part, obs.days, obs.alerted, obs.source) == ("swelling", "腿", 3, True, "speaker")
    assert obs.text == "两条腿肿了好几天了"


def test_an_everyday_complaint_gets_one_next_step(svc):
    t = turn("黑夜睡不着觉", "r-0001")
    care.ActionHealth().handle(t)
    assert said(t) == "记下了，您睡不好。要是过两天还这样，就去赵王村卫生室让医生看看。"
    assert not svc.resident_observations("r-0001")[0].alerted


def test_after_medicine_says_the_doctor_will_ask_about_it(svc):
    t = turn("吃了降压药以后就恶心", "r-0003")
    care.ActionHealth().handle(t)
    text = said(t)
    assert text.startswith("记下了，您吃了药以后恶心。我已经告诉您孙子了") and "药的事" in text
    assert sentences(text) <= 2


def test_a_reading_is_still_a_reading(svc):
    t = turn("血压一百四十五到九十", "r-0009")
    care.ActionHealth().handle(t)
    assert "血压" in said(t)
    assert svc.resident_observations("r-0009") == []


def test_a_reading_with_a_complaint_keeps_both(svc):
    t = turn("血压一百六到九十五，头有点晕", "r-0011")
    care.ActionHealth().handle(t)
    assert "血压" in said(t) and "偏高" in said(t)
    assert [o.kind for o in svc.resident_observations("r-0011")] == ["dizziness"]


def test_neither_reading_nor_complaint_asks_again(svc):
    t = turn("我要报一下", "r-0012")
    care.ActionHealth().handle(t)
    assert "没听清数" in said(t)


def test_an_emergency_classified_as_a_report_is_a_call_for_help(svc):
    before = len(svc.open_help_requests())
    t = turn("头晕得站不住", "r-0014")
    care.ActionHealth().handle(t)
    assert "别着急" in said(t)
    assert len(svc.open_help_requests()) == before + 1
    assert svc.resident_observations("r-0014") == []


def test_a_retried_webhook_records_once(svc):
    first, again = turn("这几天老咳嗽", "r-0016", "m-cough-1"), turn("这几天老咳嗽", "r-0016", "m-cough-1")
    care.ActionHealth().handle(first)
    care.ActionHealth().handle(again)
    assert said(first) == said(again)
    assert len(svc.resident_observations("r-0016")) == 1


def test_someone_elses_complaint_is_advice_not_a_record(svc):
    t = turn("我老伴一直咳嗽", "r-0021")
    care.ActionHealth().handle(t)
    assert said(t) == "您老伴咳嗽，要是过两天还不见好，带老伴去卫生室看看。"
    assert svc.resident_observations("r-0021") == []


def test_answer_symptom_can_be_called_by_another_action(svc):
    t = turn("膝盖疼得走不动道", "r-0022", intent="chitchat")
    assert care.answer_symptom(t, parse_complaint(t.text)) == []
    assert said(t).startswith("记下了，您膝盖疼得走路费劲。我已经告诉工作人员了")  # no family on record


def test_loneliness_gets_a_warm_word_and_an_activity(svc):
    t = turn("家里就我一个人，闷得慌", "r-0002", intent="chitchat")
    assert care.answer_loneliness(t, detect_loneliness(t.text)) == []
    text = said(t)
    assert text.startswith("一个人在家，是挺闷的。今天下午")
    assert "去坐坐吧？" in text and sentences(text) == 2
    assert not any(c.isascii() and c.isdigit() for c in text)
    assert svc.care_signals_for_desk() == [] or all(v.resident_id != "r-0002" for v in svc.care_signals_for_desk())


def test_missing_the_children_offers_the_call(svc):
    t = turn("儿子都不来看我", "r-0017", intent="chitchat")
    care.care_reply(t)
    assert said(t) == "想您儿子了吧。想跟儿子说说话，您就说'给我儿子打电话'。"


def companionship_tickets(svc, sender: str) -> list:
    return [t for t in svc.open_tickets(sender) if t.service_code == "companionship"]


def the_pending(events) -> dict:
    [event] = events
    assert (event["event"], event["name"]) == ("slot", "pending")
    return event["value"]


def test_no_activity_no_family_a_visit_is_asked_and_filed_on_yes(svc):
    t = turn("想找个人说说话", "r-0007", intent="chitchat")
    events = care.care_reply(t)
    assert said(t) == "好呀，我陪您说说话。要不要我请探访关爱的人这两天上门陪您聊聊？"
    assert sentences(said(t)) == 2
    assert t.dispatcher.messages[0]["buttons"] == replies.YES_NO_BUTTONS
    pending = the_pending(events)
    # actions/visits.py visit_read_back's shape, so ActionAffirm files it through book_visit
    assert {k: pending[k] for k in ("kind", "service", "date")} == {"kind": "visit", "service": "companionship",
                                                                       "date": None}
    assert len(pending["id"]) == 32 and pending["note"] == "探访关爱：想找个人说说话"
    assert companionship_tickets(svc, "r-0007") == []  # nothing booked before the yes

    yes = turn("对", "r-0007", intent="affirm", slots={"pending": pending})
    after = conversation.ActionAffirm().handle(yes)
    assert said(yes) == "约好了，这两天有人上门陪聊，来之前会先给您打电话。"
    assert {"event": "slot", "name": "pending", "value": None, "timestamp": None} in after
    [ticket] = companionship_tickets(svc, "r-0007")
    assert (ticket.service_name, ticket.preferred_date, ticket.status) == ("陪聊", None, "open")
    assert ticket.note == "探访关爱：想找个人说说话"
    again = turn("对", "r-0007", intent="affirm", slots={"pending": pending})  # a retried webhook: still one
    conversation.ActionAffirm().handle(again)
    assert [x.id for x in companionship_tickets(svc, "r-0007")] == [ticket.id]

    t2 = turn("陪我聊会儿吧", "r-0007", intent="chitchat")
    assert care.care_reply(t2) == []  # already arranged: nothing to ask
    assert said(t2) == "好呀，我陪您说说话。探访关爱的人这两天就上门看您，来之前先给您打电话。"
    desk = {v.resident_id: v for v in svc.care_signals_for_desk()}
    assert desk["r-0007"].times == 2 and desk["r-0007"].open_visit_ticket_id == ticket.id


def test_a_visit_declined_is_not_filed(svc):
    t = turn("家里就我一个人，闷得慌", "r-0008", intent="chitchat")
    pending = the_pending(care.care_reply(t))
    assert said(t) == "一个人在家，是挺闷的。要不要我请探访关爱的人这两天上门陪您聊聊？"
    no = turn("不用了", "r-0008", intent="deny", slots={"pending": pending})
    after = conversation.ActionDeny().handle(no)
    assert {"event": "slot", "name": "pending", "value": None, "timestamp": None} in after
    assert "先不办了" in said(no)
    assert companionship_tickets(svc, "r-0008") == []
    assert "r-0008" in {v.resident_id for v in svc.care_signals_for_desk()}  # lives alone: the desk still sees it


def test_a_waiting_read_back_is_not_replaced_by_the_visit_offer(svc):
    meal = {"kind": "meal", "id": uuid.uuid4().hex, "items": []}
    t = turn("孤孤单单的", "r-0006", intent="chitchat", slots={"pending": meal})
    assert care.care_reply(t) == []  # the meal read-back keeps waiting for its yes
    assert said(t) == "一个人在家，是挺闷的。" + care_replies.VISIT_HOW_TO_ASK
    assert sentences(said(t)) == 2 and not t.dispatcher.messages[0]["buttons"]
    assert companionship_tickets(svc, "r-0006") == []
    # an unanswered offer of ours is asked again
    offer = {"kind": "visit", "id": uuid.uuid4().hex, "service": "companionship", "date": None}
    t2 = turn("还是闷得慌", "r-0006", intent="chitchat", slots={"pending": offer})
    assert the_pending(care.care_reply(t2))["service"] == "companionship"
    assert said(t2).endswith(care_replies.VISIT_QUESTION)


def test_a_retried_loneliness_webhook_records_once_and_books_nothing(svc):
    first, again = (turn("一个人待着没意思", "r-0023", "m-lonely-1", intent="chitchat") for _ in range(2))
    one, two = care.care_reply(first), care.care_reply(again)
    assert said(first) == said(again) and said(first).endswith(care_replies.VISIT_QUESTION)
    assert the_pending(one)["service"] == the_pending(two)["service"] == "companionship"
    care.care_reply(turn("闷得慌", "r-0023", intent="chitchat"))  # a second message: the second signal, not the third
    assert [v.times for v in svc.care_signals_for_desk() if v.resident_id == "r-0023"] == [2]
    assert companionship_tickets(svc, "r-0023") == []


def test_words_of_not_wanting_to_live_are_a_help_request_answered_warmly(svc):
    before = len(svc.open_help_requests())
    t = turn("人老了不中用了，活着没意思", "r-0024", intent="chitchat")
    assert care.care_reply(t) is not None
    assert said(t) == "您别这么想，有我陪着您呢。我已经请工作人员马上给您打电话，跟您说说话。"
    assert len(svc.open_help_requests()) == before + 1
    again = turn("不想活了", "r-0024", intent="request_help")
    care.ActionHelp().handle(again)
    assert "别动" not in said(again) and "陪着您" in said(again)


@pytest.mark.parametrize("text", ["我想订明天的午饭", "今天星期几", "胸口疼", "你好"])
def test_care_reply_leaves_everything_else_alone(svc, text):
    t = turn(text, "r-0024", intent="chitchat")
    assert care.care_reply(t) is None
    assert t.dispatcher.messages == []
