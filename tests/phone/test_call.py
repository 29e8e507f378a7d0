"""One call with what it is given (CallDeps) faked: the SIP commands it gives, the services it calls and
the states it goes through. The real SIP, voice and Rasa path is tests/e2e/test_phone*.py."""
from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from phone import sip
from phone.call import HELP_FIRST, ONCE, TRANSFER_FAILED, TRANSFERRING, TRANSITIONS, CallDeps, CallState, PhoneCall
from phone.settings import PhoneConfig
from services.types import CallerView
from voice import pipeline as p

RESIDENT = CallerView("resident", "13835410001", resident_id="r-0001", name="王桂兰", address="赵王村3号")


class Engine:
    def __init__(self, said: list) -> None:
        self.said = said

    def answer(self, call_id: int, code: int = 200) -> None:
        self.said.append(("answer", code))

    def hangup(self, call_id: int, code: int = 603) -> None:
        self.said.append(("hangup", code))

    def transfer(self, call_id: int, target_uri: str) -> None:
        self.said.append(("transfer", target_uri))


class Services:
    def __init__(self, said: list) -> None:
        self.said = said
        self.finished: dict = {}

    def identify_caller(self, number):
        return RESIDENT

    def start_call(self, sip_call_id, caller):
        return SimpleNamespace(id=41)

    def update_call(self, call_id, **changes):
        self.said.append(("update_call", changes))

    def finish_call(self, call_id, outcome, **kw):
        self.finished = {"id": call_id, "outcome": outcome, **kw}

    def raise_help(self, resident_id, text, channel, key, **kw):
        self.said.append(("raise_help", resident_id, channel, kw["phone"], kw["location"]))
        return SimpleNamespace(id=7)

    def get_help(self, request_id):
        return SimpleNamespace(status="open")

    def open_handoff(self, conversation_id):
        return None

    def queue_handoff(self, request):
        self.said.append(("queue_handoff", request.reason))
        return SimpleNamespace(id=3)


class Session:
    def __init__(self, said: list) -> None:
        self.said = said
        self.events: asyncio.Queue = asyncio.Queue()
        self.fed = 0

    def set_format(self, fmt) -> None:
        pass

    async def speak(self, text: str) -> None:
        self.said.append(("speak", text))

    async def feed(self, pcm: bytes) -> None:
        self.fed += 1

    async def submit_text(self, text: str) -> None:
        self.said.append(("submit", text))

    async def close(self) -> None:
        pass


class Voice:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def open_session(self, **kw) -> Session:
        assert kw["channel"] == "phone" and kw["out_rate"] == sip.RATE
        return self.session


class Chat:
    async def new_session(self, sender):
        return True

    async def transcript(self, sender):
        return []


def make_call(**config) -> tuple[PhoneCall, list, Services, Session]:
    said: list = []
    services, session = Services(said), Session(said)
    deps = CallDeps(engine=Engine(said), config=PhoneConfig(**{"media_timeout_s": 2.0, **config}),
                    voice=Voice(session), chat=Chat(), services=services, honorific=lambda rid: "王奶奶")
    incoming = sip.IncomingCall(5, "abc@host", "13835410001", "", "sip:13835410001@host", "sip:hotline@host")
    return PhoneCall(deps, incoming), said, services, session


async def until(check, timeout_s: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def answered(call: PhoneCall) -> asyncio.Task:
    runner = asyncio.create_task(call.run())
    call.deliver(sip.MediaReady(call.call_id, sip.CallAudio(call.call_id, lambda *_: None), "PCMU"))
    await until(lambda: call.state is CallState.TALKING)
    return runner


async def hang_up(call: PhoneCall, runner: asyncio.Task) -> None:
    call.deliver(sip.CallEnded(call.call_id, 200, "Normal call clearing"))
    await asyncio.wait_for(runner, 3)
    await call.close()


@pytest.mark.asyncio
async def test_key_9_stores_help_before_a_word_then_waits_for_help_without_an_operator():
    call, said, services, session = make_call(operator_uri=None, reassure_every_s=60)
    runner = await answered(call)
    await until(lambda: len(said) >= 2)
    assert said[:2] == [("answer", 200), ("speak", "王奶奶您好，这里是银龄热线。您要办什么事？")]
    call.deliver(sip.DtmfDigit(call.call_id, "9"))
    await until(lambda: call.state is CallState.WAITING_FOR_HELP)
    help_at = said.index(("raise_help", "r-0001", "phone", "13835410001", "赵王村3号"))
    assert help_at < said.index(("speak", HELP_FIRST)) < said.index(("queue_handoff", "emergency"))
    assert call.asked_for_help and call.notes.help_request_id == 7
    session.events.put_nowait(p.Answered("您别着急。", emergency="fall", handed_off=True))  # said again
    await until(lambda: call.notes.last_answer == "您别着急。")
    await asyncio.sleep(0.05)
    assert [s[0] for s in said].count("queue_handoff") == 1 and call.state is CallState.WAITING_FOR_HELP
    await hang_up(call, runner)
    assert call.state is CallState.ENDED and call.ended.is_set()
    assert services.finished["outcome"] == "emergency" and services.finished["digits"] == "9"


@pytest.mark.asyncio
async def test_a_handoff_is_transferred_and_the_caller_is_not_heard_while_it_goes():
    call, said, services, session = make_call(operator_uri="sip:operator@127.0.0.1:5070")
    runner = await answered(call)
    session.events.put_nowait(p.Answered("好的，给您转人工。", handed_off=True))
    await until(lambda: ("transfer", "sip:operator@127.0.0.1:5070") in said)
    assert call.state is CallState.TRANSFERRING and ("speak", TRANSFERRING) in said
    assert said.index(("queue_handoff", "handoff")) < said.index(("transfer", "sip:operator@127.0.0.1:5070"))
    fed = session.fed
    call.heard(b"\0" * 960)
    await asyncio.sleep(0.05)
    assert session.fed == fed, "no new turns while the call is on its way to the operator"
    call.deliver(sip.TransferStatus(call.call_id, 200, "OK", True))
    await until(lambda: call.state is CallState.HANGING_UP)
    assert said[-1] == ("hangup", 200) and call.notes.outcome == "transferred"
    await hang_up(call, runner)
    assert services.finished["outcome"] == "transferred"


@pytest.mark.asyncio
async def test_help_asked_for_while_the_failed_transfer_is_announced_keeps_the_caller_on_the_line():
    call, said, services, session = make_call(operator_uri=None, reassure_every_s=60)
    runner = await answered(call)
    call.audio.drained.clear()  # "转接失败" is still playing
    session.events.put_nowait(p.Answered("好的，给您转人工。", handed_off=True))
    await until(lambda: ("speak", TRANSFER_FAILED) in said)
    call.deliver(sip.DtmfDigit(call.call_id, "9"))
    await until(lambda: call.asked_for_help)
    call.audio.drained.set()
    await until(lambda: call.state is CallState.WAITING_FOR_HELP)
    await asyncio.sleep(0.1)
    assert ("hangup", 200) not in said and call.notes.outcome != "transfer_failed"
    await hang_up(call, runner)
    assert services.finished["outcome"] == "emergency"


@pytest.mark.asyncio
async def test_no_audio_path_ends_the_call_as_failed():
    call, said, services, _ = make_call(media_timeout_s=0.1)
    runner = asyncio.create_task(call.run())
    await until(lambda: ("hangup", 408) in said)
    assert call.state is CallState.HANGING_UP
    await hang_up(call, runner)
    assert services.finished["outcome"] == "failed"


@pytest.mark.asyncio
async def test_moves_only_along_the_transitions():
    call, *_ = make_call()
    assert call.state is CallState.ANSWERING
    assert not call._enter(CallState.HANDING_OFF), "a handoff needs a conversation first"
    assert call._enter(CallState.TALKING) and call._enter(CallState.HANDING_OFF)
    assert call._enter(CallState.EMERGENCY), "help comes before a handoff"
    assert call._enter(CallState.TRANSFERRING) and not call._enter(CallState.EMERGENCY), "help is asked for once"
    assert call._enter(CallState.ENDED) and call.ended.is_set()
    assert not call._enter(CallState.TALKING) and call.state is CallState.ENDED


def test_every_state_can_end_and_ended_is_final():
    assert set(TRANSITIONS) == set(CallState)
    assert all(CallState.ENDED in moves for state, moves in TRANSITIONS.items() if state is not CallState.ENDED)
    assert TRANSITIONS[CallState.ENDED] == frozenset() and ONCE <= set(CallState)


def test_a_call_does_not_know_the_line():
    """The call is given its dependencies; it imports nothing of phone.line, not even for type checking."""
    tree = ast.parse(Path(__file__).resolve().parents[2].joinpath("phone", "call.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
    assert "phone.line" not in imported
