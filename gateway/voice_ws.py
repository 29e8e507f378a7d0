"""`/api/voice`: a simple WebSocket stream for browsers and custom speakers.

Connect with `?resident=r-0001` (or `?device=spk-0001`), optionally `&rate=48000&channels=2`
(16-bit PCM; default 16 kHz mono) and `&out_rate=8000` for the answer audio (default 16 kHz).

Client → server
  binary          raw PCM in the declared format; a frame starting with "RIFF" is a whole WAV file,
                  decoded on its own and treated as one finished utterance
  {"type": "format", "rate": 44100, "channels": 1}   change the input format
  {"type": "end"}                                     the elder stopped talking (button released)
  {"type": "text", "text": "对"}                      a choice tapped (or typed) on the device
  {"type": "played"}                                  the answer finished playing
Server → client (JSON text frames, answer audio as binary frames between audio_start and audio_stop)
  ready, speech_started, speech_stopped, partial, transcript, answer, audio_start, audio_stop,
  barge_in, error (code bad_audio / bad_request / unknown_resident / voice_unavailable)

Bad audio is answered with an error event and the session goes on: nothing said before is lost.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from voice import pipeline as p
from voice.audio import PcmFormat, check_stream_chunk, decode
from voice.errors import AudioError, UnknownSpeaker, VoiceError
from voice.service import VoiceService

logger = logging.getLogger(__name__)

MAX_WAV_S = 60.0
CLOSE_UNAUTHORISED = 4401
CLOSE_UNKNOWN = 4404
CLOSE_UNAVAILABLE = 4503


def event_json(event: p.VoiceEvent) -> dict[str, Any] | None:
    """The JSON form of a pipeline event; None for audio chunks, which travel as binary frames."""
    match event:
        case p.SpeechStarted(at_s=at):
            return {"type": "speech_started", "at_s": round(at, 2)}
        case p.SpeechStopped(at_s=at, reason=reason):
            return {"type": "speech_stopped", "at_s": round(at, 2), "reason": reason}
        case p.Partial(text=text):
            return {"type": "partial", "text": text}
        case p.Transcribed(text=text, raw=raw, grammar=grammar):
            return {"type": "transcript", "text": text, "raw": raw, "grammar": grammar}
        case p.Answered() as a:
            return {"type": "answer", "text": a.text, "buttons": list(a.buttons), "handoff": a.handed_off,
                    "emergency": a.emergency, "reprompt": a.reprompt}
        case p.AudioStart(rate=rate):
            return {"type": "audio_start", "rate": rate, "width": 2, "channels": 1}
        case p.AudioStop(interrupted=interrupted):
            return {"type": "audio_stop", "interrupted": interrupted}
        case p.BargeIn():
            return {"type": "barge_in"}
        case p.Failed(message=message):
            return {"type": "error", "code": "voice_failed", "message": message}
    return None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError as exc:
        raise AudioError(f"not a number: {value!r}") from exc


async def voice_socket(ws: WebSocket, voice: VoiceService) -> None:
    await ws.accept()
    q = ws.query_params
    try:
        fmt = PcmFormat(_int(q.get("rate"), 16000), _int(q.get("channels"), 1))
        fmt.validate()
        out_rate = _int(q.get("out_rate"), 16000)
        if out_rate not in (8000, 16000):
            raise AudioError("out_rate must be 8000 or 16000")
    except AudioError as exc:
        await ws.send_json({"type": "error", "code": "bad_request", "message": str(exc)})
        await ws.close(code=1003)
        return
    try:
        session = await voice.open_session(resident_id=q.get("resident"), device_id=q.get("device"),
                                           channel="speaker", out_rate=out_rate)
    except UnknownSpeaker as exc:  # a resident or device nobody registered
        await ws.send_json({"type": "error", "code": "unknown_resident", "message": str(exc)})
        await ws.close(code=CLOSE_UNKNOWN)
        return
    except VoiceError as exc:
        logger.error("voice unavailable: %s", exc)
        await ws.send_json({"type": "error", "code": "voice_unavailable", "message": str(exc)})
        await ws.close(code=CLOSE_UNAVAILABLE)
        return
    session.set_format(fmt)
    await ws.send_json({"type": "ready", "conversation_id": session.conversation_id, "resident": session.resident_id,
                        "rate_in": fmt.rate, "channels_in": fmt.channels, "rate_out": out_rate,
                        "language": session.language, "note": voice.model_note or None})
    sender = asyncio.create_task(_send_events(ws, session))
    try:
        await _receive(ws, session)
    except WebSocketDisconnect:
        pass
    finally:
        await session.close()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


async def _receive(ws: WebSocket, session: p.VoiceSession) -> None:
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        data, text = message.get("bytes"), message.get("text")
        try:
            if data is not None:
                if data[:4] == b"RIFF":
                    await _whole_wav(session, data)
                else:
                    check_stream_chunk(data)
                    await session.feed(data)
            elif text is not None:
                await _control(session, text)
        except AudioError as exc:
            await ws.send_json({"type": "error", "code": "bad_audio", "message": str(exc)})


async def _whole_wav(session: p.VoiceSession, data: bytes) -> None:
    pcm, fmt = decode(data, max_seconds=MAX_WAV_S)  # validates before anything is fed
    session.set_format(fmt)
    await session.feed(pcm)
    await session.end_of_audio()


async def _control(session: p.VoiceSession, text: str) -> None:
    try:
        msg = json.loads(text)
        kind = msg.get("type")
    except (ValueError, AttributeError) as exc:
        raise AudioError("control messages are JSON objects with a type") from exc
    if kind == "end":
        await session.end_of_audio()
    elif kind == "text":
        await session.submit_text(str(msg.get("text") or "")[:500])
    elif kind == "played":
        session.playback_done()
    elif kind == "format":
        session.set_format(PcmFormat(_int(msg.get("rate"), 16000), _int(msg.get("channels"), 1)))
    else:
        raise AudioError(f"unknown control message {kind!r}")


async def _send_events(ws: WebSocket, session: p.VoiceSession) -> None:
    while True:
        event = await session.events.get()
        if isinstance(event, p.AudioChunk):
            await ws.send_bytes(event.pcm)
        else:
            payload = event_json(event)
            if payload is not None:
                await ws.send_json(payload)
