"""The buffers between PJSIP's media clock and the phone line, and caller ID parsing."""
import threading

import pytest

from phone.sip import FRAME_BYTES, CallAudio, caller_of


@pytest.mark.parametrize("uri, user, display", [
    ('"张建国" <sip:13835411001@10.0.0.5:5060>', "13835411001", "张建国"),
    ("<sip:13835410001@127.0.0.1>", "13835410001", ""),
    ("sip:02112345678@pbx.example;user=phone", "02112345678", ""),
    ("<sips:1001@pbx.example:5061;transport=tls>", "1001", ""),
    ('"Anonymous" <sip:anonymous@anonymous.invalid>', "anonymous", "Anonymous"),
    ("garbage", "", ""),
])
def test_caller_of(uri, user, display):
    assert caller_of(uri) == (user, display)


def test_silence_when_there_is_nothing_to_say_and_frames_in_order():
    audio = CallAudio(0, lambda *_: None)
    assert audio.next_frame() == bytes(FRAME_BYTES) and audio.drained.is_set()
    speech = bytes(range(256)) * 3  # 768 bytes: two whole frames and a part
    audio.play(speech)
    assert not audio.drained.is_set() and audio.queued_s == pytest.approx(768 / 16000)
    frames = [audio.next_frame() for _ in range(3)]
    assert b"".join(frames)[:768] == speech and frames[2][768 - 2 * FRAME_BYTES:] == bytes(3 * FRAME_BYTES - 768)
    assert audio.drained.is_set() and audio.first_voice_out_at is not None and audio.drained_at is not None


def test_clear_stops_at_once():
    audio = CallAudio(0, lambda *_: None)
    audio.play(b"\x01\x00" * 8000)
    audio.clear()
    assert audio.next_frame() == bytes(FRAME_BYTES) and audio.drained.is_set()


def test_received_audio_is_handed_on_in_pieces():
    got = []
    audio = CallAudio(7, lambda cid, pcm: got.append((cid, pcm)), deliver_frames=3)
    for i in range(7):
        audio.received(bytes([i]) * FRAME_BYTES)
    assert [cid for cid, _ in got] == [7, 7] and all(len(p) == 3 * FRAME_BYTES for _, p in got)
    assert got[1][1][:1] == b"\x03" and audio.frames_in == 7


def test_play_and_take_from_two_threads_lose_nothing():
    audio = CallAudio(0, lambda *_: None)
    chunk = b"\x10\x00" * 80  # 10 ms
    out = []

    def clock():
        for _ in range(300):
            out.append(audio.next_frame())

    t = threading.Thread(target=clock)
    t.start()
    for _ in range(200):
        audio.play(chunk)
    t.join()
    while not audio.drained.is_set():
        out.append(audio.next_frame())
    assert b"".join(out).count(chunk[:2]) == 200 * 80
