#!/usr/bin/env python3
"""A speaker for wyoming-satellite's --snd-command, as `aplay -r RATE -c CHANNELS -f S16_LE -t raw` would
be: raw 16-bit little-endian PCM from stdin, consumed at real-time speed, so that a writer faster than
playback blocks on the pipe (the back-pressure aplay gives; the sound card's buffer is --buffer seconds).

What it played is appended to --out (raw PCM), and --log gets a line per event, with the monotonic
clock (the same clock as time.monotonic() in any process of the machine):
    <t> open 0          the program started (the satellite starts one for each answer)
    <t> play <bytes>    these bytes start to sound at t (t is in the future by up to --buffer)
    <t> close <bytes>   stdin closed and everything played; total bytes of this run
so a test can tell how many seconds of answer audio sounded, and when. On end of input it waits until
the last sample has sounded, then exits, as aplay does (wyoming-satellite 1.0.0 closes stdin after each
audio-stop and waits for the program to exit). Stdlib only: it runs in the satellite's environment.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

WIDTH = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=22050)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--buffer", type=float, default=0.1, help="seconds the sound card holds (default 0.1)")
    parser.add_argument("--out", required=True, help="raw PCM of all that played is appended here")
    parser.add_argument("--log", required=True, help="timings of what played")
    args = parser.parse_args()

    frame = WIDTH * args.channels
    bytes_per_s = args.rate * frame
    read = 1024 * frame  # a period
    stdin = sys.stdin.buffer
    log = open(args.log, "a", buffering=1)
    out = open(args.out, "ab")
    log.write(f"{time.monotonic():.6f} open 0\n")
    total = 0
    ends = 0.0  # when what was handed to the card so far has sounded
    carry = b""
    try:
        while True:
            data = os.read(stdin.fileno(), read)
            if not data:
                break
            data, carry = carry + data, b""
            whole = len(data) - len(data) % frame
            data, carry = data[:whole], data[whole:]
            if not data:
                continue
            now = time.monotonic()
            starts = max(ends, now)  # the card ran dry meanwhile: it starts again now
            ends = starts + len(data) / bytes_per_s
            out.write(data)
            out.flush()
            total += len(data)
            log.write(f"{starts:.6f} play {len(data)}\n")
            wait = ends - args.buffer - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # the card is full: the writer waits on the pipe meanwhile
        wait = ends - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # drain, as aplay does before it exits
    except KeyboardInterrupt:
        pass
    finally:
        log.write(f"{time.monotonic():.6f} close {total}\n")
        log.close()
        out.close()


if __name__ == "__main__":
    main()
