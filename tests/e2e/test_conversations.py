"""End-to-end conversations: gateway → real Rasa → real action server → database."""
from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from common.service_key import auth_header
from tests.e2e.conftest import TODAY

TOMORROW = TODAY + timedelta(days=1)


def active_orders(services, resident):
    return [o for o in services.upcoming_orders(resident, today=TODAY) if o.status == "booked"]


def test_full_booking_with_correction_then_double_booking_then_cancel(chat, services):
    c = chat("r-0001")
    assert "哪天" in c.say("我想订饭")
    assert "哪一顿" in c.say("明儿个")
    assert "几份" in c.say("晌午饭")
    assert "送到家" in c.say("一份")
    readback = c.say("我自己去食堂吃")
    assert "一份" in readback and "对吗" in readback and "明天" in readback
    assert not active_orders(services, "r-0001"), "nothing is booked before a yes"

    corrected = c.say("不对，是两份")
    assert "两份" in corrected and "对吗" in corrected
    booked = c.say("对")
    assert "订好了" in booked
    orders = active_orders(services, "r-0001")
    assert [(o.date, o.meal, o.portions, o.mode) for o in orders] == [(TOMORROW, "lunch", 2, "dine_in")]

    # saying yes again books nothing more
    c.say("对")
    assert len(active_orders(services, "r-0001")) == 1

    # the same meal again, in one breath: refused with what is already booked
    again = c.say("明天中午给我订一份饭")
    if "对吗" in again:  # read back first, refused at the yes
        again = c.say("对")
    assert "已经订了" in again
    assert len(active_orders(services, "r-0001")) == 1

    # cancel it, naming which
    ask = c.say("把明天的午饭取消了吧")
    assert "取消" in ask and "对吗" in ask
    assert "取消好了" in c.say("对咧")
    assert active_orders(services, "r-0001") == []


def test_booking_in_one_sentence_delivery(chat, services):
    c = chat("r-0004")
    readback = c.say("后天晚上订三份饭，给我送到家里")
    assert "三份" in readback and "送到家" in readback and "对吗" in readback
    assert "订好了" in c.say("是的")
    orders = active_orders(services, "r-0004")
    assert [(o.date, o.meal, o.portions, o.mode) for o in orders] == [
        (TODAY + timedelta(days=2), "dinner", 3, "delivery")]


def test_full_canteen(chat, services):
    resident = services.get_resident("r-0003")
    services.set_capacity(resident.home_canteen_id, TOMORROW, "dinner", 0)
    c = chat("r-0003")
    answer = c.say("明天晚上订一份饭，我去食堂吃")
    assert "订满" in answer
    assert active_orders(services, "r-0003") == []


def test_cancel_asks_which_when_several(chat, services):
    c = chat("r-0009")
    for when in ("明天中午", "后天中午"):
        readback = c.say(f"{when}订一份饭，去食堂吃")
        assert "对吗" in readback
        assert "订好了" in c.say("对")
    which = c.say("我要退订")
    assert "哪一顿" in which
    confirm = c.say("后天的")
    assert "后天" in confirm and "对吗" in confirm
    assert "取消好了" in c.say("对")
    left = active_orders(services, "r-0009")
    assert [o.date for o in left] == [TOMORROW]


def test_unknown_resident_is_handed_to_a_person(chat, services):
    c = chat("r-9999")
    reply = c.send("我要订明天的午饭")
    text = " ".join(m["text"] for m in reply["messages"])
    assert "没查到" in text
    assert reply["handed_off"] is True
    handoff = services.open_handoff("r-9999")
    assert handoff is not None and handoff.reason == "unknown_resident"


def test_help_call_is_stored_and_survives_killing_the_action_server(chat, services, stack):
    c = chat("r-0005")
    reply = c.send("救命啊，我摔倒了起不来")
    # kill the action server the moment the answer is out
    stack.stop("actions", kill=True)
    try:
        text = " ".join(m["text"] for m in reply["messages"])
        assert "叫人" in text
        assert reply["help_request_id"] is not None
        open_requests = [h for h in services.open_help_requests() if h.resident_id == "r-0005"]
        assert len(open_requests) == 1, "one request, though gateway and action both stored it"
        assert open_requests[0].notified, "family and operators were alerted"
    finally:
        stack.start_actions()
        stack.wait_ready()


def test_help_call_gets_through_while_the_action_server_is_down(chat, services, stack):
    stack.stop("actions", kill=True)
    try:
        c = chat("r-0010")
        reply = c.send("快来人，我胸口疼得厉害")
        text = " ".join(m["text"] for m in reply["messages"])
        assert "叫人" in text and "Traceback" not in text
        assert [h for h in services.open_help_requests() if h.resident_id == "r-0010"]
        assert reply["handed_off"] is True
    finally:
        stack.start_actions()
        stack.wait_ready()


def test_handoff_pauses_the_bot_and_keeps_what_the_elder_says(chat, services, stack):
    c = chat("r-0006")
    c.say("我想问问补贴的事")
    reply = c.send("我要找个真人说话")
    assert reply["handed_off"] is True
    handoff = services.open_handoff("r-0006")
    assert handoff is not None and handoff.summary and len(handoff.transcript) >= 2
    later = c.send("我的高龄津贴咋还没到")
    assert "转人工" in later["messages"][0]["text"]
    assert any("高龄津贴" in line["text"] for line in services.open_handoff("r-0006").transcript)
    tracker = httpx.get(f"{stack.config.rasa_url}/conversations/r-0006/tracker", timeout=10).json()
    assert tracker["paused"] is True


def test_two_fallbacks_in_a_row_go_to_a_person(chat, services):
    c = chat("r-0008")
    first = c.send("qwerty asdf")
    assert first["handed_off"] is False
    second = c.send("zxcv hjkl")
    assert second["handed_off"] is True
    assert services.open_handoff("r-0008").reason == "two_fallbacks"


def test_a_miss_in_an_earlier_session_does_not_count(chat, stack, services):
    """A new phone call starts a new Rasa session: one miss at the end of the last call and one at
    the start of this one are not two in a row."""
    c = chat("r-0012")
    assert c.send("qwerty asdf")["handed_off"] is False
    httpx.post(f"{stack.config.rasa_url}/conversations/r-0012/execute", json={"name": "action_session_start"},
               timeout=30).raise_for_status()
    assert c.send("zxcv hjkl")["handed_off"] is False
    assert services.open_handoff("r-0012") is None


def test_repeat_says_the_last_answer_again_slower(chat):
    c = chat("r-0011")
    first = c.send("今天中午吃啥")
    again = c.send("你再说一遍")
    first_text = [m["text"] for m in first["messages"] if m["text"]]
    again_texts = [m for m in again["messages"] if m["text"]]
    assert [m["text"] for m in again_texts] == first_text
    assert again_texts[0]["custom"] == {"speech_rate": "slow"}


@pytest.mark.parametrize(
    "sender,text,expected",
    [
        ("r-0012", "你好啊", "银龄"),
        ("r-0012", "明天中午有啥菜", "午饭有"),
        ("r-0013", "八十岁以上有啥补贴", "津贴"),
        ("r-0001", "我的高龄津贴发了没有", "高龄津贴"),
        ("r-0002", "给我闺女打个电话", "尾号"),
        ("r-0002", "离我最近的养老服务中心在哪", "最近"),
        ("r-0002", "礼拜三有啥活动", "星期三"),
        ("r-0002", "赵王村的驿站几点开门", "赵王村"),
        ("r-9998", "段家庄村幸福小院在哪", "段家庄村"),
        ("r-0015", "我量了血压一百四十五到九十", "血压"),
        ("r-0016", "你今年多大了", ""),
        ("r-0016", "帮我买张彩票", "帮不上"),
        ("r-0016", "谢谢你啊", ""),
        ("r-0016", "好了我走了再见", ""),
    ],
)
def test_every_informational_intent_answers(chat, sender, text, expected):
    answer = chat(sender).say(text)
    assert answer and expected in answer and "Traceback" not in answer


def test_home_visit_is_read_back_and_filed_after_yes(chat, services):
    c = chat("r-0017")
    assert "哪样" in c.say("能不能派个人上门")
    readback = c.say("理发")
    assert "理发" in readback and "对吗" in readback
    assert "约好了" in c.say("对")
    tickets = services.open_tickets("r-0017")
    assert [t.service_code for t in tickets] == ["haircut"]


def test_out_of_range_health_reading_alerts_family_and_operators(chat, services):
    c = chat("r-0001")
    answer = c.say("我刚量的血压一百七十到一百一")
    assert "偏高" in answer
    notes = [n for n in services.pending_notifications() if n.resident_id == "r-0001" and n.kind == "health"]
    assert notes, "family and operators were alerted"


def test_bad_messages_get_clear_errors(stack):
    http = httpx.Client(base_url=stack.config.gateway_url, timeout=30, headers=auth_header())
    assert http.post("/api/chat", json={"sender": "r-0001", "message": "   "}).status_code == 422
    assert http.post("/api/chat", json={"sender": "r-0001", "message": "饭" * 5000}).status_code == 422
    assert http.post("/api/chat", json={"sender": "../etc", "message": "你好"}).status_code == 422
    assert http.post("/api/chat", content=b"not json", headers={"content-type": "application/json"}).status_code == 422


def test_same_message_id_twice_books_once(chat, services):
    c = chat("r-0018")
    readback = c.say("明天早上订一份饭去食堂吃")
    assert "对吗" in readback
    first = c.send("对", message_id="dup-yes-1")
    c.send("对", message_id="dup-yes-1")
    assert "订好了" in first["messages"][0]["text"]
    assert len(active_orders(services, "r-0018")) == 1


@pytest.mark.parametrize(
    "text,expected",
    [
        ("明天中午订两份饭", {"date": "明天", "meal": "午饭", "portions": "两份"}),
        ("下礼拜一晌午饭给我来仨", {"meal": "午饭"}),
        ("给我闺女打电话", {"relation": "女儿"}),
        ("我想问问高龄津贴", {"programme": "高龄津贴"}),
        ("派个人来给我理发", {"service_type": "理发"}),
        ("血压一百四十五到九十", {"measure": "血压"}),
    ],
)
def test_entities_are_extracted(stack, text, expected):
    parsed = httpx.post(f"{stack.config.rasa_url}/model/parse", json={"text": text}, timeout=30).json()
    found = {e["entity"]: e["value"] for e in parsed["entities"]}
    for name, value in expected.items():
        assert found.get(name) == value, parsed["entities"]


def test_vosk_style_spaced_text_is_understood(chat, services):
    c = chat("r-0019")
    readback = c.say("后天 中午 订 一份 饭 送 到 家")
    assert "一份" in readback and "送到家" in readback and "对吗" in readback
