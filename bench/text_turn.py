"""Latency of whole text turns: REST message in, answer out, action and database included.

Starts the real stack (Rasa with our patches, action server, gateway) on its own
ports and a fresh SQLite database, then sends turns that each run a custom
action against the database, at 1 and at 20 concurrent senders (closed loop:
each sender sends its next message when the answer is in), both straight to
Rasa's REST channel and through the gateway. Each sender holds conversations of
eight turns. Then the 20 senders again, paced: each pauses 1 to 3 s between
its messages. Prints p50/p95/p99, throughput, CPU per turn of each process and
the Rasa server's memory.

    .venv/bin/python bench/text_turn.py [--turns 200] [--concurrency 1 20]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.service_key import auth_header  # noqa: E402
from services.facade import Services  # noqa: E402
from yinling.stack import Stack, StackConfig  # noqa: E402

CONVERSATION_TURNS = 8
MESSAGES = ["今天中午吃啥", "我的高龄津贴发了没有", "离我最近的驿站在哪", "礼拜三有啥活动"]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    import subprocess

    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)],
                         capture_output=True, text=True).stdout
    return sum(int(x) for x in out.split()) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far."""
    import os

    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


async def run_load(url: str, body_for, turns: int, concurrency: int, rasa_url: str,
                   think_s: tuple[float, float] = (0.0, 0.0)) -> list[float]:
    latencies: list[float] = []
    counter = iter(range(turns))

    async def sender(worker: int) -> None:
        if think_s[1]:  # paced senders do not all start in the same instant
            await asyncio.sleep(random.uniform(0, think_s[1]))
        async with httpx.AsyncClient(timeout=60, headers=auth_header()) as client:
            for n, i in enumerate(counter):
                body = body_for(worker, i)
                if n % CONVERSATION_TURNS == 0:
                    # a new conversation (untimed): elders talk in short sessions; without this
                    # one tracker would grow for the whole run (see the note on tracker stores)
                    reset = await client.put(f"{rasa_url}/conversations/{body['sender']}/tracker/events", json=[])
                    reset.raise_for_status()
                start = time.perf_counter()
                r = await client.post(url, json=body)
                r.raise_for_status()
                assert r.json(), "empty answer"
                latencies.append((time.perf_counter() - start) * 1000)
                if think_s[1]:
                    await asyncio.sleep(random.uniform(*think_s))

    await asyncio.gather(*(sender(w) for w in range(concurrency)))
    return latencies


def report(label: str, lat: list[float], wall: float) -> None:
    print(f"{label:<46} n={len(lat):4d}  p50 {statistics.median(lat):7.1f} ms  p95 {pct(lat, 95):7.1f} ms"
          f"  p99 {pct(lat, 99):7.1f} ms  {len(lat) / wall:6.1f} turns/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20])
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="yinling-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    Services(url).create_all_and_seed(date.today())
    config = StackConfig(rasa_port=25005, actions_port=25055, gateway_port=28000, database_url=url,
                         log_dir=tmp / "logs", extra_env={"YINLING_OUTBOX": str(tmp / "outbox.jsonl")})
    with Stack(config) as stack:
        rasa_pid = stack.processes["rasa"].popen.pid
        print(f"Rasa server memory after start: {rss_mb(rasa_pid):.0f} MB")
        rasa_url = f"{config.rasa_url}/webhooks/rest/webhook"
        gateway_url = f"{config.gateway_url}/api/chat"

        def body(worker: int, i: int) -> dict:
            # demo residents r-0001 … r-0024: one sender per concurrent worker
            return {"sender": f"r-{worker % 24 + 1:04d}", "message": MESSAGES[i % len(MESSAGES)]}

        asyncio.run(run_load(rasa_url, body, 20, 1, config.rasa_url))  # warm-up
        for concurrency in args.concurrency:
            for label, target in (("Rasa REST (custom action + DB)", rasa_url),
                                  ("gateway /api/chat (whole turn)", gateway_url)):
                pids = {name: p.popen.pid for name, p in stack.processes.items()}
                cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                start = time.perf_counter()
                lat = asyncio.run(run_load(target, body, args.turns, concurrency, config.rasa_url))
                report(f"{label} x{concurrency}", lat, time.perf_counter() - start)
                cpu = {name: (cpu_seconds(pid) - cpu_before[name]) * 1000 / len(lat) for name, pid in pids.items()}
                print("    CPU per turn: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in cpu.items()))
        # Paced: the same 20 senders, each pausing 1 to 3 s before its next message,
        # as people in a conversation do (an elder's spoken turn takes longer still).
        for label, target in (("gateway /api/chat paced", gateway_url),):
            start = time.perf_counter()
            lat = asyncio.run(run_load(target, body, args.turns, 20, config.rasa_url, think_s=(1.0, 3.0)))
            report(f"{label} x20 (1-3 s between turns)", lat, time.perf_counter() - start)
        print(f"Rasa server memory after load: {rss_mb(rasa_pid):.0f} MB")


if __name__ == "__main__":
    main()
