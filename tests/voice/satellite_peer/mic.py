#!/usr/bin/env python3
"""A microphone for wyoming-satellite's --mic-command, as `arecord -r RATE -c CHANNELS -f S16_LE -t raw`
would be: raw 16-bit little-endian PCM on stdout, paced in real time, a chunk at a time.

Between utterances it hears a quiet room: low-level noise (about -60 dBFS), never digital zeros, as no
real microphone gives exactly zero. WAV files dropped into --spool are "said" into it one after the
other, in name order, each once, then removed; a WAV must already be at the microphone's rate, channel
count and 16-bit width (the harness converts with sox) and must be dropped atomically (written under a
name not ending in .wav, then renamed), or it is skipped with a note on stderr. The room's noise is
mixed into what is said. --log gets a line `<monotonic time> said-start|said-end <name>` for each file
(and `<t> mic-start <format>` each time the program starts).

The satellite starts this program once when it starts and reads it for as long as it runs (it
restarts it 3 s after it exits); it stops it with SIGTERM. Stdlib only: it runs in the satellite's
environment. If the satellite is stopped (SIGSTOP) and the pipe fills, the writes block; on waking,
audio that would have been captured meanwhile is lost, as with a real sound card's overrun, instead
of arriving in a burst.
"""
from __future__ import annotations

import argparse
import array
import os
import random
import sys
import time
import wave

WIDTH = 2
BEHIND_S = 0.5  # further behind than this (stopped, or starved of CPU): skip ahead, as an overrun would


def _noise(samples: int, level: float, seed: int) -> array.array:
    rng = random.Random(seed)
    return array.array("h", (max(-32768, min(32767, int(rng.gauss(0.0, level)))) for _ in range(samples)))


class Room:
    """The room's noise, a second of it on a loop (so the sound is not silence, yet costs little)."""

    def __init__(self, rate: int, channels: int, level: float, seed: int) -> None:
        self.table = _noise(rate * channels, level, seed) if level > 0 else array.array("h", bytes(2 * rate * channels))
        self.at = 0

    def take(self, samples: int) -> array.array:
        out = array.array("h")
        while len(out) < samples:
            part = self.table[self.at:self.at + samples - len(out)]
            out.extend(part)
            self.at = (self.at + len(part)) % len(self.table)
        return out


def _next_wav(spool: str | None) -> str | None:
    if not spool:
        return None
    try:
        names = sorted(n for n in os.listdir(spool) if n.endswith(".wav"))
    except FileNotFoundError:
        return None
    return os.path.join(spool, names[0]) if names else None


def _read_wav(path: str, rate: int, channels: int) -> bytes | None:
    try:
        with wave.open(path, "rb") as wav:
            got = (wav.getframerate(), wav.getnchannels(), wav.getsampwidth())
            if got != (rate, channels, WIDTH):
                print(f"mic.py: {os.path.basename(path)} is {got[0]} Hz, {got[1]} channel(s), {8 * got[2]}-bit; "
                      f"this microphone is {rate} Hz, {channels} channel(s), 16-bit: skipped", file=sys.stderr)
                return None
            return wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        print(f"mic.py: {os.path.basename(path)} unreadable ({exc}): skipped", file=sys.stderr)
        return None
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _note(log: str | None, what: str, name: str) -> None:
    if log:
        with open(log, "a") as out:
            out.write(f"{time.monotonic():.6f} {what} {name}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=16000)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=1024, help="frames per write (default 1024)")
    parser.add_argument("--noise", type=float, default=30.0, help="noise level, standard deviation in sample units "
                                                                    "(default 30, about -60 dBFS; 0: digital silence)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spool", help="directory of WAV files to say, in name order")
    parser.add_argument("--log", help="file to note when each WAV started and finished")
    args = parser.parse_args()

    room = Room(args.rate, args.channels, args.noise, args.seed)
    frame_bytes = WIDTH * args.channels
    chunk_bytes = args.chunk * frame_bytes
    chunk_s = args.chunk / args.rate
    out = sys.stdout.buffer
    speech = b""
    speaking: str | None = None
    _note(args.log, "mic-start", f"{args.rate}Hz-{args.channels}ch")
    due = time.monotonic() + chunk_s  # a chunk is there once it has been heard
    try:
        while True:
            if not speech:
                if speaking is not None:
                    _note(args.log, "said-end", speaking)
                    speaking = None
                path = _next_wav(args.spool)
                if path is not None:
                    pcm = _read_wav(path, args.rate, args.channels)
                    if pcm:
                        speech, speaking = pcm, os.path.basename(path)
                        _note(args.log, "said-start", speaking)
            samples = room.take(args.chunk * args.channels)
            if speech:
                said = array.array("h", speech[:chunk_bytes].ljust(chunk_bytes, b"\0"))
                speech = speech[chunk_bytes:]
                if sys.byteorder != "little":
                    said.byteswap()
                samples = array.array("h", (max(-32768, min(32767, a + b)) for a, b in zip(said, samples, strict=True)))
            if sys.byteorder != "little":
                samples.byteswap()
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            elif now - due > BEHIND_S:
                due = now  # overrun: what would have been heard meanwhile is lost
            out.write(samples.tobytes())
            out.flush()
            due += chunk_s
    except BrokenPipeError:  # the satellite went away
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python exits
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
