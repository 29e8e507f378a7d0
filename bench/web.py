"""The family web page at scale: many family members signed in at once, each with the live alert stream
open and chatting with the assistant for their resident, while residents call for help.

Starts the real stack (Rasa with our patches, action server, gateway) on free ports and a fresh SQLite
database, with N family accounts (real argon2 hashes) each linked to one resident who consented (two or
three families a resident, as brothers and sisters are). Each family member signs in (four at a time),
opens GET /api/alerts/stream and keeps it open, then sends messages to /api/residents/{id}/chat, pausing
a think time between its answer and its next message. Two operator consoles hold streams too. Meanwhile
a resident calls for help every few seconds (POST /api/chat with the service key, as a speaker does) and
the bench times, for every family stream linked to that resident and both consoles, how long the `help`
event took from the moment the resident's message was sent.

Prints requests/s, chat latency p50/p95/p99, alert delivery p50/p95/max, sign-in latency, CPU per
process and the gateway's memory (RSS) before, during and after. The issue's targets on these 2-core
machines: chat p95 <= 300 ms, alerts within 1 s.

The gateway runs without the voice model preloaded and without the phone line (neither is part of this
load, and the voice model's memory would hide the streams' in the RSS figure). Unlike bench/text_turn.py
the bench never resets a conversation: each resident's grows through the run, as a family chat does,
and the gateway starts a new Rasa session every 30 turns or so, once the conversation is at rest
(assistant.sessions; Rasa's cost per turn grows with the session). The run prints the chat latency by
third, which shows whether that holds. The load generator runs
on the same two cores; its CPU is printed with the others.

    .venv/bin/python bench/web.py [--families 50] [--duration 60] [--think 2 6] [--help-every 2]
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.text_turn import cpu_seconds, pct, rss_mb  # noqa: E402  (the same figures as the text bench)
from common.service_key import auth_header  # noqa: E402
from services.facade import Services  # noqa: E402
from services.models import FamilyMember  # noqa: E402
from services.seed_data import DEMO_PASSWORD  # noqa: E402
from yinling.stack import Stack, StackConfig  # noqa: E402

MESSAGES = ["今天中午吃啥", "我的高龄津贴发了没有", "离我最近的驿站在哪", "礼拜三有啥活动"]
HELP_TEXT = "我摔倒了，起不来，快来人"
PASSWORD = "bench-family-2026"
OPERATORS = ("op.li", "sup.wang")
RELATIONS = ("女儿", "儿子", "儿媳", "女婿", "孙子", "孙女")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def line(label: str, values: list[float], unit: str = "ms") -> str:
    if not values:
        return f"{label:<40} n=   0"
    return (f"{label:<40} n={len(values):5d}  p50 {statistics.median(values):7.1f} {unit}  p95 {pct(values, 95):7.1f} {unit}"
            f"  p99 {pct(values, 99):7.1f} {unit}  max {max(values):7.1f} {unit}")


# --- the accounts --------------------------------------------------------------------------------------
@dataclass
class Family:
    username: str
    resident_id: str
    token: str = ""


def make_families(services: Services, count: int) -> list[Family]:
    """`count` family accounts, each linked to a new consenting family_members row of one resident
    (round robin over the residents on file), with real argon2 password hashes."""
    residents = [r.id for r in _residents(services)]
    now = datetime.now(timezone.utc)
    families = []
    with services.engine.begin() as db:
        for i in range(count):
            rid = residents[i % len(residents)]
            db.execute(FamilyMember.__table__.insert().values(
                id=f"f-b{i:04d}", resident_id=rid, name=f"家属{i:02d}", relation=RELATIONS[i % len(RELATIONS)],
                phone=f"1390000{i:04d}", consent=True, consent_at=now, is_demo=False))
            families.append(Family(f"bench.family{i:02d}", rid))
    for i, family in enumerate(families):
        services.create_account(family.username, PASSWORD, "family", f"家属{i:02d}", family_member_ids=(f"f-b{i:04d}",),
                                actor="bench")
    return families


def _residents(services: Services):
    from sqlalchemy import select

    from services.models import Resident

    with services.engine.connect() as db:
        return db.execute(select(Resident.id).order_by(Resident.id)).all()


# --- the streams ----------------------------------------------------------------------------------------
@dataclass
class StreamStats:
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    help_at: dict[int, float] = field(default_factory=dict)  # help request id -> first arrival
    events: int = 0
    ended: bool = False


async def hold_stream(client: httpx.AsyncClient, stats: StreamStats) -> None:
    kind, data = "message", []
    try:
        async with client.stream("GET", "/api/alerts/stream") as response:
            response.raise_for_status()
            async for text in response.aiter_lines():
                if text:
                    name, _, value = text.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "event":
                        kind = value
                    elif name == "data":
                        data.append(value)
                    continue
                if data:
                    arrived = time.perf_counter()
                    stats.events += 1
                    if kind == "ready":
                        stats.ready.set()
                    elif kind == "help":
                        payload = json.loads("\n".join(data))
                        stats.help_at.setdefault(payload["id"], arrived)
                kind, data = "message", []
    finally:
        stats.ended = True


# --- the load -------------------------------------------------------------------------------------------
@dataclass
class Results:
    sign_in_ms: list[float] = field(default_factory=list)
    chat_ms: list[float] = field(default_factory=list)
    chat_started: list[float] = field(default_factory=list)
    chat_errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)  # status code or exception -> count
    handed_off: int = 0
    help_post_ms: list[float] = field(default_factory=list)
    helps: list[tuple[int, str, float]] = field(default_factory=list)  # (id, resident, sent at)
    requests: int = 0


async def sign_in(client: httpx.AsyncClient, username: str, password: str, results: Results,
                  gate: asyncio.Semaphore) -> str:
    async with gate:
        start = time.perf_counter()
        r = await client.post("/api/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        results.sign_in_ms.append((time.perf_counter() - start) * 1000)
    return r.json()["token"]


async def chatter(client: httpx.AsyncClient, family: Family, results: Results, think: tuple[float, float],
                  until: float) -> None:
    messages = itertools.cycle(random.sample(MESSAGES, len(MESSAGES)))
    await asyncio.sleep(random.uniform(0, think[1]))  # people do not all start in the same instant
    while time.perf_counter() < until:
        start = time.perf_counter()
        try:
            r = await client.post(f"/api/residents/{family.resident_id}/chat",
                                  json={"message": next(messages), "message_id": uuid.uuid4().hex})
            ok = r.status_code == 200
            kind = f"{r.status_code} {r.text[:80]}"
        except httpx.HTTPError as e:
            ok, kind = False, f"{type(e).__name__} {e}"[:100]
        results.requests += 1
        if ok:
            results.chat_ms.append((time.perf_counter() - start) * 1000)
            results.chat_started.append(start)
            results.handed_off += bool(r.json().get("handed_off"))
        else:
            results.chat_errors += 1
            results.error_kinds[kind] = results.error_kinds.get(kind, 0) + 1
        await asyncio.sleep(min(random.uniform(*think), max(0.0, until - time.perf_counter())))


async def resident_calls(client: httpx.AsyncClient, residents: list[str], every_s: float, results: Results,
                         until: float) -> None:
    """A resident calls for help every `every_s` seconds, as their speaker sends it."""
    order = itertools.cycle(residents)
    await asyncio.sleep(every_s / 2)
    while time.perf_counter() < until:
        rid = next(order)
        start = time.perf_counter()
        r = await client.post("/api/chat", json={"sender": rid, "message": HELP_TEXT, "channel": "speaker",
                                                  "message_id": uuid.uuid4().hex})
        results.requests += 1
        r.raise_for_status()
        results.help_post_ms.append((time.perf_counter() - start) * 1000)
        help_id = r.json().get("help_request_id")
        if help_id is None:
            raise RuntimeError(f"no help request stored for {rid}: {r.text}")
        results.helps.append((help_id, rid, start))
        await asyncio.sleep(max(0.0, min(every_s - (time.perf_counter() - start), until - time.perf_counter())))


async def run(gateway_url: str, families: list[Family], args, pids: dict[str, int], rss_idle: float) -> None:
    results = Results()
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    timeout = httpx.Timeout(30.0, read=None)
    service = httpx.AsyncClient(base_url=gateway_url, timeout=timeout, headers=auth_header())
    anonymous = httpx.AsyncClient(base_url=gateway_url, timeout=timeout)
    gate = asyncio.Semaphore(4)  # sign-ins four at a time: argon2 is meant to be slow

    start = time.perf_counter()
    tokens = await asyncio.gather(*(sign_in(anonymous, f.username, PASSWORD, results, gate) for f in families),
                                  *(sign_in(anonymous, name, DEMO_PASSWORD, results, gate) for name in OPERATORS))
    signing_wall = time.perf_counter() - start
    for family, token in zip(families, tokens, strict=False):
        family.token = token
    staff_tokens = tokens[len(families):]

    # one client (its own connections, as a browser has) per page
    clients = [httpx.AsyncClient(base_url=gateway_url, timeout=timeout, limits=limits,
                                 headers={"Authorization": f"Bearer {f.token}"}) for f in families]
    consoles = [httpx.AsyncClient(base_url=gateway_url, timeout=timeout, limits=limits,
                                  headers={"Authorization": f"Bearer {t}"}) for t in staff_tokens]
    family_stats = [StreamStats() for _ in families]
    console_stats = [StreamStats() for _ in consoles]
    streams = [asyncio.create_task(hold_stream(c, s)) for c, s in zip(clients + consoles, family_stats + console_stats, strict=True)]
    await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in family_stats + console_stats)), 30)
    gateway = pids["gateway"]
    rss_streams = rss_mb(gateway)

    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    cpu_before["bench (load generator)"] = time.process_time()
    rss_peak = rss_streams
    load_start = time.perf_counter()
    until = load_start + args.duration

    async def sample_rss() -> None:
        nonlocal rss_peak
        while time.perf_counter() < until:
            rss_peak = max(rss_peak, await asyncio.to_thread(rss_mb, gateway))
            await asyncio.sleep(1.0)

    residents = sorted({f.resident_id for f in families})
    await asyncio.gather(*(chatter(c, f, results, tuple(args.think), until) for c, f in zip(clients, families, strict=True)),
                         resident_calls(service, residents, args.help_every, results, until), sample_rss())
    wall = time.perf_counter() - load_start
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    cpu["bench (load generator)"] = time.process_time() - cpu_before["bench (load generator)"]
    await asyncio.sleep(3.0)  # the last calls for help still on their way

    delivery, missed = [], 0
    console_delivery = []
    for help_id, rid, sent in results.helps:
        for family, stats in zip(families, family_stats, strict=True):
            if family.resident_id != rid:
                continue
            if help_id in stats.help_at:
                delivery.append((stats.help_at[help_id] - sent) * 1000)
            else:
                missed += 1
        for stats in console_stats:
            if help_id in stats.help_at:
                console_delivery.append((stats.help_at[help_id] - sent) * 1000)
            else:
                missed += 1
    wrong = sum(1 for family, stats in zip(families, family_stats, strict=True)
                for help_id, rid, _ in results.helps if rid != family.resident_id and help_id in stats.help_at)
    events = sum(s.events for s in family_stats + console_stats)
    dropped = sum(s.ended for s in family_stats + console_stats)
    rss_after = rss_mb(gateway)

    for task in streams:
        task.cancel()
    await asyncio.gather(*streams, return_exceptions=True)
    for c in clients + consoles + [service, anonymous]:
        await c.aclose()

    think = f"{args.think[0]:g}-{args.think[1]:g} s"
    print(f"\n{len(families)} family members + {len(consoles)} operator consoles, each with the alert stream open; "
          f"think time {think}; a call for help every {args.help_every:g} s; {wall:.0f} s of load")
    print(line("sign-in (argon2, 4 at a time)", results.sign_in_ms) + f"   ({signing_wall:.1f} s for all)")
    print(line("family chat /api/residents/{id}/chat", results.chat_ms)
          + f"   errors {results.chat_errors}, handed off {results.handed_off}")
    for kind, count in sorted(results.error_kinds.items(), key=lambda item: -item[1]):
        print(f"{'  error':<40} {count} x {kind}")
    thirds = [[ms for t, ms in zip(results.chat_started, results.chat_ms, strict=True)
               if k * wall / 3 <= t - load_start < (k + 1) * wall / 3] for k in range(3)]
    print(f"{'  chat p50 / p95 by third of the run':<40} "
          + ", ".join(f"{statistics.median(v):.0f} / {pct(v, 95):.0f} ms" for v in thirds if v)
          + "   (each resident's conversation grows through the run)")
    print(line("resident's help message /api/chat", results.help_post_ms))
    print(line("help -> family stream", delivery) + f"   ({len(results.helps)} calls for help)")
    print(line("help -> operator console", console_delivery))
    print(f"{'alerts missed / to the wrong family':<40} {missed} / {wrong}; streams ended early: {dropped}")
    chats = len(results.chat_ms) + results.chat_errors
    print(f"{'throughput':<40} {results.requests / wall:.1f} requests/s ({chats / wall:.1f} chat turns/s), "
          f"{events / wall:.0f} stream events/s delivered")
    ncpu = os.cpu_count() or 1
    print("CPU during the load: " + ", ".join(f"{n} {s / wall * 100:.0f}%" for n, s in cpu.items())
          + f" of one core (together {sum(cpu.values()) / wall / ncpu * 100:.0f}% of the machine's {ncpu} cores)")
    print(f"gateway RSS: {rss_idle:.0f} MB idle, {rss_streams:.0f} MB with the {len(streams)} streams open, "
          f"{rss_peak:.0f} MB peak under load, {rss_after:.0f} MB after")
    targets = []
    if results.chat_ms:
        targets.append(f"chat p95 {pct(results.chat_ms, 95):.0f} ms (target <= 300): "
                       f"{'met' if pct(results.chat_ms, 95) <= 300 else 'NOT met'}")
    if delivery:
        targets.append(f"alerts max {max(delivery) / 1000:.2f} s (target within 1 s): "
                       f"{'met' if max(delivery) <= 1000 and not missed else 'NOT met'}")
    print("; ".join(targets))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of chat load")
    parser.add_argument("--think", type=float, nargs=2, default=[2.0, 6.0],
                        help="seconds a family member pauses between an answer and the next message")
    parser.add_argument("--help-every", type=float, default=2.0, help="seconds between residents' calls for help")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="yinling-bench-web-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    services = Services(url)
    services.create_all_and_seed(date.today())
    start = time.perf_counter()
    families = make_families(services, args.families)
    print(f"{len(families)} family accounts over {len({f.resident_id for f in families})} residents "
          f"made in {time.perf_counter() - start:.1f} s")
    services.close()

    config = StackConfig(rasa_port=free_port(), actions_port=free_port(), gateway_port=free_port(), database_url=url,
                         log_dir=tmp / "logs",
                         extra_env={"YINLING_OUTBOX": str(tmp / "outbox.jsonl"), "YINLING_SIP_PORT": "0",
                                    "YINLING_VOICE_PRELOAD": "0", "YINLING_SATELLITES": "0"})
    with Stack(config) as stack:
        pids = {name: p.popen.pid for name, p in stack.processes.items()}
        # warm-up: a few turns straight through the gateway, so no family pays for first-use costs
        with httpx.Client(base_url=config.gateway_url, headers=auth_header(), timeout=60) as client:
            for message in MESSAGES:
                client.post("/api/chat", json={"sender": "r-0024", "message": message}).raise_for_status()
        asyncio.run(run(config.gateway_url, families, args, pids, rss_mb(pids["gateway"])))
        died = stack.died()
        if died:
            print("processes that died:", ", ".join(died))


if __name__ == "__main__":
    main()
