"""The conversation log: turns stored (ID numbers stripped), read back, summarised for the live view,
searched with LIKE on both backends, and followed by id for the fan-out."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.errors import InvalidRequest
from services.models import ConversationTurn
from services.types import HandoffRequest

from .conftest import NOW


def cid(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def at(clock):
    """Sets the shared clock for a test and puts it back afterwards."""
    def set_to(moment: datetime) -> None:
        clock.now = moment

    yield set_to
    clock.now = NOW


def test_log_turn_and_read_back_oldest_first(services):
    conv = cid()
    first = services.log_turn(conv, "r-0001", "speaker", "elder", "我想订明天的午饭", intent="book_meal")
    second = services.log_turn(conv, "r-0001", "speaker", "bot", "好的，王奶奶，明天午饭一份？")
    assert (first.conversation_id, first.resident_id, first.channel, first.role, first.actor, first.intent) == (
        conv, "r-0001", "speaker", "elder", None, "book_meal")
    assert first.created_at == NOW and second.id > first.id
    assert services.conversation(conv) == [first, second]
    assert services.conversation(cid("nobody")) == []


def test_id_numbers_never_reach_the_log(services):
    conv = cid()
    turn = services.log_turn(conv, "r-0002", "web", "family", "我爸身份证号是140702194903150012，电话13935420002",
                             actor="family:7")
    assert "140702194903150012" not in turn.text and "[身份证号已隐去]" in turn.text
    assert "13935420002" in turn.text  # a phone number is kept (shown to operators and the family only)
    with Session(services.engine) as session:
        stored = session.scalars(select(ConversationTurn.text).where(ConversationTurn.id == turn.id)).one()
    assert "140702194903150012" not in stored
    assert turn.actor == "family:7"


def test_unknown_sender_is_logged_without_a_resident(services):
    turn = services.log_turn("wx-unknown-77", "wx-unknown-77", "text", "elder", "有人吗")
    assert turn.resident_id is None and turn.conversation_id == "wx-unknown-77"
    assert services.log_turn("anon-1", None, "phone", "elder", "喂").resident_id is None


@pytest.mark.parametrize("args, reason", [
    (("", "r-0001", "text", "elder", "x"), "bad_conversation_id"),
    (("c" * 121, "r-0001", "text", "elder", "x"), "bad_conversation_id"),
    (("c1", "r-0001", "fax", "elder", "x"), "unknown_channel"),
    (("c1", "r-0001", "text", "user", "x"), "unknown_role"),
    (("c1", "r-0001", "text", "elder", "字" * 4001), "text_too_long"),
])
def test_log_turn_refuses_bad_input(services, args, reason):
    with pytest.raises(InvalidRequest) as err:
        services.log_turn(*args)
    assert err.value.reason == reason


def test_an_exchange_is_logged_in_order_or_not_at_all(services):
    conversation = cid("x")
    turns = services.log_exchange(conversation, "r-0001", "web", [("family", "明天中午订饭", "family:1"),
                                                                   ("bot", "订几份？", None), ("bot", "好的", None)])
    assert [(t.role, t.text, t.actor) for t in turns] == [("family", "明天中午订饭", "family:1"),
                                                          ("bot", "订几份？", None), ("bot", "好的", None)]
    assert [t.id for t in services.conversation(conversation)] == [t.id for t in turns]
    with pytest.raises(InvalidRequest):
        services.log_exchange(conversation, "r-0001", "web", [("elder", "再说一遍", None), ("robot", "?", None)])
    assert len(services.conversation(conversation)) == 3, "a bad line leaves none of its exchange behind"


def test_several_exchanges_share_one_transaction_all_or_nothing(services):
    a, b = cid("ga"), cid("gb")
    logged = services.log_exchanges([(a, "r-0001", "text", [("elder", "今天吃啥", None), ("bot", "红烧肉", None)]),
                                     (b, "nobody", "web", [("family", "几点开门", "family:2")])])
    assert [[t.text for t in turns] for turns in logged] == [["今天吃啥", "红烧肉"], ["几点开门"]]
    assert [t.resident_id for t in logged[0] + logged[1]] == ["r-0001", "r-0001", None]
    with pytest.raises(InvalidRequest):
        services.log_exchanges([(a, "r-0001", "text", [("elder", "好", None)]),
                                (b, "r-0001", "text", [("robot", "?", None)])])
    assert [len(services.conversation(c)) for c in (a, b)] == [2, 1], "a bad exchange leaves none of the batch"


def test_conversation_limit_keeps_the_latest_turns(services):
    conv = cid()
    turns = [services.log_turn(conv, "r-0003", "text", "elder" if i % 2 == 0 else "bot", f"第{i}句") for i in range(6)]
    assert [t.text for t in services.conversation(conv, limit=3)] == ["第3句", "第4句", "第5句"]
    assert services.conversation(conv) == turns
    with pytest.raises(InvalidRequest):
        services.conversation(conv, limit=0)


def test_turns_after_follows_ids(services):
    mark = max([0] + [t.id for t in services.turns_after(0, limit=1000)])
    conv = cid()
    a = services.log_turn(conv, "r-0004", "speaker", "elder", "开灯")
    b = services.log_turn(conv, "r-0004", "speaker", "bot", "我还不会开灯")
    assert services.turns_after(mark) == [a, b]
    assert services.turns_after(a.id) == [b]
    assert services.turns_after(mark, limit=1) == [a]
    assert services.turns_after(b.id) == []


def test_live_conversations_newest_first_with_resident_and_handoff(services, at):
    base = NOW + timedelta(days=1)
    quiet, busy, handed = cid("quiet"), cid("busy"), cid("handed")
    at(base)
    services.log_turn(quiet, "r-0005", "text", "elder", "早上好")
    at(base + timedelta(minutes=20))
    services.log_turn(busy, "r-0006", "speaker", "elder", "今天有什么活动")
    services.log_turn(busy, "r-0006", "speaker", "bot", "下午有太极拳")
    at(base + timedelta(minutes=25))
    services.log_turn(handed, "r-0007", "phone", "elder", "我要找人工")
    handoff = services.queue_handoff(HandoffRequest(handed, "phone", "asked_for_human", (), "r-0007"))
    at(base + timedelta(minutes=26))
    services.log_turn(handed, "r-0007", "phone", "bot", "正在为您转接")

    live = [s for s in services.live_conversations(base + timedelta(minutes=10)) if s.conversation_id in
            (quiet, busy, handed)]
    assert [s.conversation_id for s in live] == [handed, busy]  # quiet: nothing since
    first, second = live
    assert (first.resident_id, first.resident_name, first.channel, first.last_role, first.last_text, first.turns,
            first.handoff_status, first.last_at) == (
        "r-0007", "武成林", "phone", "bot", "正在为您转接", 2, "queued", base + timedelta(minutes=26))
    assert (second.resident_name, second.turns, second.handoff_status, second.last_text) == (
        "田桂花", 2, None, "下午有太极拳")
    services.take_handoff(handoff.id, "op-01")
    [taken] = [s for s in services.live_conversations(base) if s.conversation_id == handed]
    assert taken.handoff_status == "taken"
    services.close_handoff(handoff.id, "op-01")
    [closed] = [s for s in services.live_conversations(base) if s.conversation_id == handed]
    assert closed.handoff_status is None
    assert [s.conversation_id for s in services.live_conversations(base) if s.conversation_id in
            (quiet, busy, handed)] == [handed, busy, quiet]


def test_live_conversations_needs_an_aware_time(services):
    with pytest.raises(InvalidRequest):
        services.live_conversations(datetime(2025, 11, 5, 10, 0))


def test_summary_takes_the_resident_from_any_turn(services):
    conv = cid()
    services.log_turn(conv, "r-0008", "web", "elder", "我是刘玉梅")
    services.log_turn(conv, None, "web", "system", "会话已转人工")
    [summary] = services.search_conversations(resident_id="r-0008", q="我是刘玉梅")
    assert (summary.conversation_id, summary.resident_id, summary.resident_name, summary.last_role) == (
        conv, "r-0008", "刘玉梅", "system")


def test_search_by_text_resident_channel_and_time(services, at):
    base = NOW + timedelta(days=2)
    tag = uuid.uuid4().hex[:8]
    c1, c2, c3 = cid("s1"), cid("s2"), cid("s3")
    at(base)
    services.log_turn(c1, "r-0009", "text", "elder", f"血压有点高 {tag}")
    services.log_turn(c1, "r-0009", "text", "bot", "请您多休息")
    at(base + timedelta(hours=1))
    services.log_turn(c2, "r-0010", "speaker", "elder", f"我想量血压 {tag}")
    at(base + timedelta(hours=2))
    services.log_turn(c3, "r-0010", "web", "family", f"订午饭 {tag}", actor="family:1")

    def ids(**filters):
        return [s.conversation_id for s in services.search_conversations(**filters)
                if s.conversation_id in (c1, c2, c3)]

    assert ids(q=tag) == [c3, c2, c1]  # newest first
    assert ids(q=f"血压%{tag}") == []  # % is not a wildcard
    assert ids(q="血压")[:2] == [c2, c1] and c3 not in ids(q="血压")
    assert ids(q=tag, resident_id="r-0010") == [c3, c2]
    assert ids(q=tag, channel="speaker") == [c2]
    assert ids(q=tag, since=base + timedelta(minutes=30)) == [c3, c2]
    assert ids(q=tag, until=base + timedelta(minutes=30)) == [c1]
    assert ids(q=tag, since=base + timedelta(minutes=30), until=base + timedelta(hours=2)) == [c2]
    # A match on one turn brings the whole conversation: summary from its last turn, all turns counted.
    [s1] = [s for s in services.search_conversations(q="血压有点高") if s.conversation_id == c1]
    assert (s1.last_text, s1.last_role, s1.turns) == ("请您多休息", "bot", 2)
    assert len(services.search_conversations(q=tag, limit=1)) == 1


def test_search_escapes_like_wildcards_and_folds_case(services):
    tag = uuid.uuid4().hex[:8]
    percent, under, plain, latin = cid("p"), cid("u"), cid("n"), cid("l")
    services.log_turn(percent, "r-0011", "web", "family", f"打了50%的折 {tag}")
    services.log_turn(under, "r-0011", "web", "family", f"文件名 a_b {tag}")
    services.log_turn(plain, "r-0011", "web", "family", f"5000元 axb a\\b {tag}")
    services.log_turn(latin, "r-0011", "web", "family", f"Hello WeChat {tag}")

    def ids(q):
        return {s.conversation_id for s in services.search_conversations(q=q, resident_id="r-0011")} & {
            percent, under, plain, latin}

    assert ids("50%") == {percent}
    assert ids("a_b") == {under}
    assert ids("a\\b") == {plain}
    assert ids("wechat") == {latin} and ids("HELLO") == {latin}
    assert ids("  ") == {percent, under, plain, latin}  # blank q: no text filter


def test_search_refuses_bad_filters(services):
    with pytest.raises(InvalidRequest):
        services.search_conversations(channel="fax")
    with pytest.raises(InvalidRequest):
        services.search_conversations(since=datetime(2025, 1, 1))
    with pytest.raises(InvalidRequest):
        services.search_conversations(q="长" * 101)


def test_concurrent_turns_are_all_kept(services):
    conv = cid()

    def say(i: int):
        return services.log_turn(conv, "r-0012", "web", "family", f"消息{i}", actor="family:2")

    with ThreadPoolExecutor(max_workers=8) as pool:
        turns = list(pool.map(say, range(24)))
    assert len({t.id for t in turns}) == 24
    assert sorted(t.text for t in services.conversation(conv)) == sorted(f"消息{i}" for i in range(24))
