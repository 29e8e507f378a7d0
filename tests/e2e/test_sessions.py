"""A long conversation gets a new Rasa session once it is at rest (assistant.sessions), on the real
stack: real Rasa and action server, the real database, the gateway's chat service in-process with a
short limit so that a few turns reach it (the stack's own gateway keeps the default of 30)."""
from __future__ import annotations

import asyncio

import httpx

from assistant.rasa_client import RasaClient
from assistant.sessions import SessionKeeper
from assistant.turn import ChatService
from tests.e2e.test_conversations import active_orders


def texts(reply) -> list[str]:
    return [m.text for m in reply.messages if m.text]


def session(stack, sender: str) -> list[dict]:
    """The events Rasa keeps for the sender's conversation now: its tracker store holds the latest
    session and, until the next message is saved, the sessions before it."""
    r = httpx.get(f"{stack.config.rasa_url}/conversations/{sender}/tracker", params={"include_events": "ALL"},
                  timeout=30)
    r.raise_for_status()
    return r.json()["events"]


def said(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e.get("event") == "user"]


def latest(events: list[dict]) -> list[dict]:
    starts = [i for i, e in enumerate(events) if e.get("event") == "session_started"]
    return events[starts[-1]:] if starts else events


def converse(stack, services, sender: str, limit: int, messages: list[str], check) -> None:
    """Sends `messages` one by one through a ChatService that renews sessions after `limit` turns;
    after each answer (and any renewal it set off) calls check(index, reply, Rasa's events)."""
    async def run() -> None:
        rasa = RasaClient(stack.config.rasa_url, 30)
        keeper = SessionKeeper(rasa, turns=limit)
        chat = ChatService(services, rasa, 500, keeper)
        try:
            await rasa.new_session(sender)  # from a clean conversation
            for i, message in enumerate(messages):
                reply = await chat.handle(sender, message, "text")
                await keeper.settled()
                check(i, reply, await asyncio.to_thread(session, stack, sender))
        finally:
            await chat.aclose()
            await rasa.aclose()

    asyncio.run(run())


def test_a_long_conversation_starts_afresh_and_repeat_still_finds_the_last_answer(stack, services):
    messages = ["今天中午吃啥", "我的高龄津贴发了没有", "礼拜三有啥活动", "你再说一遍"]
    answers: list[list[str]] = []

    def check(i, reply, events):
        answers.append(texts(reply))
        if i < 2:
            assert said(latest(events)) == messages[:i + 1], "a new session before the limit"
        elif i == 2:  # the third answer: at rest, so the session was renewed behind it
            assert said(latest(events)) == [] and said(events) == messages[:3]
        else:  # "再说一遍" as the first message of the new session: the answer comes from the log
            assert said(events) == [messages[3]], "the old session's events are still kept and re-read"
            assert texts(reply) == answers[2]
            assert all(m.custom == {"speech_rate": "slow"} for m in reply.messages if m.text)

    converse(stack, services, "r-0014", 3, messages, check)


def test_no_new_session_cuts_into_a_booking_and_it_comes_once_the_booking_is_done(stack, services):
    before = len(active_orders(services, "r-0007"))
    messages = ["我想订饭", "明儿个", "晌午饭", "一份", "我自己去食堂吃", "对", "今天中午吃啥"]

    def check(i, reply, events):
        if i < 5:  # the form's questions, then the read-back: past the limit of 2, but not at rest
            assert said(latest(events)) == messages[:i + 1]
        if i == 4:
            assert "对吗" in " ".join(texts(reply))
        if i == 5:  # booked, and only now at rest
            assert "订好了" in " ".join(texts(reply))
            assert said(latest(events)) == []
        if i == 6:
            assert said(events) == [messages[6]]

    converse(stack, services, "r-0007", 2, messages, check)
    assert len(active_orders(services, "r-0007")) == before + 1


def test_a_handoff_just_after_a_new_session_still_shows_the_operator_what_led_up_to_it(stack, services):
    messages = ["我想问问补贴的事", "今天中午吃啥", "我要找个真人说话"]

    def check(i, reply, events):
        if i == 1:
            assert said(latest(events)) == []  # renewed: the session holds nothing of the first two
        if i == 2:
            assert reply.handed_off

    converse(stack, services, "r-0013", 2, messages, check)
    handoff = services.open_handoff("r-0013")
    try:
        texts_seen = [line["text"] for line in handoff.transcript]
        # the two turns before the new session come from the conversation log, in order, then this one
        assert texts_seen.index(messages[0]) < texts_seen.index(messages[1]) < texts_seen.index(messages[2])
        assert sum(line["role"] == "bot" for line in handoff.transcript) >= 3
    finally:  # back to the bot, as an operator would hand it back: other tests talk to r-0013 too
        services.take_handoff(handoff.id, "op-09")
        services.close_handoff(handoff.id, "op-09")
        httpx.post(f"{stack.config.rasa_url}/conversations/r-0013/tracker/events", json={"event": "resume"},
                   timeout=30).raise_for_status()
