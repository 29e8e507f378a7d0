"""Speech out: pyttsx3 over espeak-ng, behind a small interface of ours.

pyttsx3 is not safe to use from several threads, and espeak-ng is one instance per process, so each engine
lives in a worker process of its own (voice/_tts_worker.py, which also explains the pyttsx3 2.99
save_to_file bug and our fix). A pool of them serves every conversation: a request waits for a free worker
and has it to itself, so conversations neither block each other beyond the pool's size nor mix audio.
Answers are synthesized a sentence at a time, which lets the speaker start on the first sentence while
the next one is made, and keeps one long answer from holding a worker for long.
A worker that dies, or whose engine breaks, mid-request is replaced and the request retried once on another
worker (synthesis has no side effects); a second failure raises SynthesisError. A request over its timeout
also has its worker replaced but is not retried (the same text would likely stall again): SynthesisError.
A request the engine refuses (an unknown voice) raises SynthesisError and leaves the worker in the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from voice.errors import SynthesisError

logger = logging.getLogger(__name__)

DEFAULT_VOICE = "sit/cmn"
# espeak-ng reads Mandarin at about 2 syllables a second at its default 175 wpm; a little slower suits elders
# without dragging (130 wpm stretched a 23-syllable answer to 15 s). Residents can have their own rate.
ELDER_RATE_WPM = 160
MIN_RATE_WPM, MAX_RATE_WPM = 80, 450  # espeak-ng's range without its sonic speed-up
OUT_RATES = (16000, 8000)  # speakers, phone line
MAX_CHUNK_CHARS = 40  # about 15 s of speech; a longer sentence is cut at a comma
INSTALL_HINT = "install espeak-ng: apt-get install espeak-ng"

_ROOT = Path(__file__).resolve().parents[1]
_WORKER_MODULE = "voice._tts_worker"


@dataclass(frozen=True)
class VoiceSettings:
    voice: str = DEFAULT_VOICE
    rate_wpm: int = ELDER_RATE_WPM
    volume: float = 1.0  # 0..1; espeak-ng amplitude 0..100

    def __post_init__(self) -> None:
        if not isinstance(self.voice, str) or not self.voice.strip():
            raise SynthesisError(f"voice must be an espeak-ng voice id such as {DEFAULT_VOICE!r}, got {self.voice!r}")
        if isinstance(self.rate_wpm, bool) or not isinstance(self.rate_wpm, int) \
                or not MIN_RATE_WPM <= self.rate_wpm <= MAX_RATE_WPM:
            raise SynthesisError(f"speech rate must be {MIN_RATE_WPM}-{MAX_RATE_WPM} words a minute, "
                                 f"got {self.rate_wpm!r}")
        if isinstance(self.volume, bool) or not isinstance(self.volume, int | float) or not 0.0 <= self.volume <= 1.0:
            raise SynthesisError(f"volume must be from 0.0 to 1.0, got {self.volume!r}")


@dataclass(frozen=True)
class TtsStats:
    requests: int  # sentences asked for
    cache_hits: int
    syntheses: int  # sentences a worker synthesized
    retries: int  # requests retried after their worker died
    worker_restarts: int  # workers replaced (died, timed out, or broken)
    workers: int  # workers alive now
    in_flight: int  # requests a worker is on right now


class Synthesizer(Protocol):
    def sentences(self, text: str, *, out_rate: int = 16000,
                  settings: VoiceSettings = VoiceSettings()) -> AsyncIterator[bytes]:
        """16-bit mono PCM at out_rate, one chunk per sentence, the first as early as possible."""
        ...

    async def synthesize(self, text: str, *, out_rate: int = 16000, settings: VoiceSettings = VoiceSettings()) -> bytes:
        ...

    async def prewarm(self, texts: Iterable[str] | str, *, out_rates: Iterable[int] = OUT_RATES,
                      settings: VoiceSettings = VoiceSettings()) -> None:
        ...

    async def close(self) -> None:
        ...


# --- sentences -------------------------------------------------------------------------------------------

_ENDERS = "。！？；!?;…\n"
_CLOSERS = "”’」』）)》】\"'"
_SOFT_BREAKS = "，,、：:"


def _speakable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def split_sentences(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """The chunks we synthesize one by one: sentences (ended by 。！？；… or a line break, closing quotes kept
    with them), a sentence over max_chars cut after commas, one over max_chars without a comma cut hard
    (not inside a run of Latin letters or digits). Chunks with nothing to say (only punctuation) are dropped."""
    if max_chars < 2:
        raise ValueError("max_chars must be at least 2")
    chunks: list[str] = []
    for sentence in _sentences(text):
        chunks.extend(_fit(sentence, max_chars))
    return [c for c in chunks if _speakable(c)]


def _sentences(text: str) -> list[str]:
    out, buf, i = [], [], 0
    while i < len(text):
        ch = text[i]
        buf.append(ch)
        i += 1
        # an ASCII full stop ends a sentence before a space or the end, not inside "3.5"
        ends = ch in _ENDERS or (ch == "." and (i == len(text) or text[i].isspace()))
        if ends:
            while i < len(text) and (text[i] in _ENDERS or text[i] in _CLOSERS or text[i] == "."):
                buf.append(text[i])
                i += 1
            out.append(buf)
            buf = []
    out.append(buf)
    sentences = (re.sub(r"\s+", " ", "".join(b)).strip() for b in out)
    return [s for s in sentences if s]


def _fit(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    pieces = [p for p in re.split(f"(?<=[{re.escape(_SOFT_BREAKS)}])", sentence) if p]
    out: list[str] = []
    current = ""
    for piece in pieces:
        if len(current) + len(piece) <= max_chars:
            current += piece
            continue
        if current:
            out.append(current)
        current = ""
        while len(piece) > max_chars:
            cut = max_chars
            while cut > 1 and piece[cut - 1].isascii() and piece[cut - 1].isalnum() \
                    and piece[cut].isascii() and piece[cut].isalnum():
                cut -= 1  # keep "12349" or "App" whole
            if cut == 1:
                cut = max_chars
            out.append(piece[:cut])
            piece = piece[cut:]
        current = piece
    if current:
        out.append(current)
    return [p.strip() for p in out if p.strip()]


# --- the engine check --------------------------------------------------------------------------------------

def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def check_voice(voice: str = DEFAULT_VOICE, *, timeout_s: float = 30.0) -> None:
    """Raises SynthesisError, saying what to install, unless pyttsx3 can drive espeak-ng with `voice` here.
    Runs in a child process: espeak-ng, once loaded, stays in a process for good."""
    try:
        proc = subprocess.run([sys.executable, "-m", _WORKER_MODULE, "--check", "--voice", voice],
                              stdin=subprocess.DEVNULL, capture_output=True, env=_worker_env(), timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired:
        raise SynthesisError(f"checking espeak-ng took over {timeout_s:g} s") from None
    _ready_or_raise(proc.stdout.split(b"\n", 1)[0], proc.returncode, proc.stderr.decode(errors="replace"))


def _ready_or_raise(line: bytes, returncode: int | None, stderr: str = "") -> dict:
    try:
        msg = json.loads(line)
    except ValueError:
        tail = stderr.strip().splitlines()[-1:] or [""]
        raise SynthesisError(f"the speech worker stopped before it was ready (exit status {returncode}) "
                             f"{tail[0]}".strip()) from None
    if not msg.get("ready"):
        error = msg.get("error") or "unknown error"
        if "install espeak-ng" not in error:
            error = f"{error} ({INSTALL_HINT})"
        raise SynthesisError(f"speech synthesis is unavailable: {error}")
    return msg


# --- the worker processes -----------------------------------------------------------------------------------

class _WorkerLost(Exception):
    """The worker died or broke mid-request; the request may be retried elsewhere."""


class _Worker:
    def __init__(self, proc: asyncio.subprocess.Process, tmp_dir: str, startup_ms: float) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.tmp_dir = tmp_dir
        self.startup_ms = startup_ms

    @classmethod
    async def spawn(cls, voice: str, timeout_s: float) -> _Worker:
        # a directory of its own, which we remove even when the worker was killed mid-utterance
        tmp_dir = tempfile.mkdtemp(prefix="yinling-tts-")
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", _WORKER_MODULE, "--voice", voice, "--tmp-dir", tmp_dir,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=_worker_env())
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout_s)
            if not line:
                await proc.wait()
            msg = _ready_or_raise(line, proc.returncode)
        except BaseException as exc:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            shutil.rmtree(tmp_dir, ignore_errors=True)
            if isinstance(exc, asyncio.TimeoutError):
                raise SynthesisError(f"the speech worker did not start within {timeout_s:g} s") from None
            raise
        return cls(proc, tmp_dir, float(msg.get("startup_ms", 0.0)))

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    async def render(self, text: str, out_rate: int, settings: VoiceSettings) -> bytes:
        request = {"text": text, "out_rate": out_rate, "voice": settings.voice, "rate_wpm": settings.rate_wpm,
                   "volume": settings.volume}
        try:
            self.proc.stdin.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
            await self.proc.stdin.drain()
            line = await self.proc.stdout.readline()
            if not line:
                raise _WorkerLost("the speech worker exited")
            reply = json.loads(line)
            if reply.get("ok"):
                return await self.proc.stdout.readexactly(int(reply["n"]))
        except (BrokenPipeError, ConnectionResetError, asyncio.IncompleteReadError) as exc:
            raise _WorkerLost(f"the speech worker exited ({type(exc).__name__})") from None
        except (ValueError, KeyError) as exc:
            raise _WorkerLost(f"the speech worker answered out of protocol ({exc})") from None
        if reply.get("fatal"):
            raise _WorkerLost(reply.get("error", "the speech engine broke"))
        raise SynthesisError(f"speech synthesis failed: {reply.get('error', 'unknown error')}")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    async def stop(self, grace_s: float = 2.0) -> None:
        if self.alive:
            with contextlib.suppress(Exception):
                self.proc.stdin.close()  # the worker ends at end of input
            try:
                await asyncio.wait_for(self.proc.wait(), grace_s)
            except asyncio.TimeoutError:
                self.kill()
        await self.reap()

    async def reap(self) -> None:
        await self.proc.wait()
        shutil.rmtree(self.tmp_dir, ignore_errors=True)


# --- the pool -------------------------------------------------------------------------------------------------

def _check_out_rate(out_rate: int) -> None:
    if out_rate not in OUT_RATES:
        raise SynthesisError(f"speech output rate must be 16000 (speaker) or 8000 (phone) Hz, got {out_rate!r}")


def _consume(task: asyncio.Future) -> None:
    # a request whose caller went away (barge-in) still finishes; nobody reads its outcome
    if not task.cancelled():
        task.exception()


_Key = tuple[str, str, int, float, int]


class Pyttsx3Synthesizer:
    """A pool of pyttsx3 worker processes with an LRU cache of sentence audio; prewarmed prompts stay cached."""

    def __init__(self, workers: int = 2, cache_size: int = 256, *, cache_bytes: int = 64 << 20,
                 max_chunk_chars: int = MAX_CHUNK_CHARS, timeout_s: float = 20.0, start_timeout_s: float = 60.0,
                 acquire_timeout_s: float = 120.0, voice: str = DEFAULT_VOICE) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._size = workers
        self._cache_size = cache_size
        self._cache_bytes = cache_bytes
        self._max_chunk_chars = max_chunk_chars
        self._timeout_s = timeout_s  # per sentence; one takes well under a second
        self._start_timeout_s = start_timeout_s
        self._acquire_timeout_s = acquire_timeout_s
        self._voice = voice  # the voice the workers check for at start
        self._cache: OrderedDict[_Key, bytes] = OrderedDict()
        self._cached_bytes = 0
        self._pinned: dict[_Key, bytes] = {}
        self._idle: asyncio.Queue[_Worker | None] | None = None
        self._workers: set[_Worker] = set()
        self._background: set[asyncio.Future] = set()  # requests whose callers may be gone, worker replacements
        self._reaping: set[asyncio.Future] = set()  # retired workers: wait for the exit, remove the temp dir
        self._start_lock: asyncio.Lock | None = None
        self._started = False
        self._closed = False
        self._last_spawn_error = ""
        self._requests = self._hits = self._syntheses = self._retries = self._restarts = self._in_flight = 0

    # lifecycle

    async def start(self) -> None:
        """Starts the workers (each loads espeak-ng and the Mandarin dictionary); safe to call again.
        Raises SynthesisError, saying what to install, when espeak-ng or the voice is missing."""
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._closed:
                raise SynthesisError("the synthesizer is closed")
            if self._started:
                return
            self._idle = asyncio.Queue()
            results = await asyncio.gather(*(_Worker.spawn(self._voice, self._start_timeout_s)
                                             for _ in range(self._size)), return_exceptions=True)
            workers = [r for r in results if isinstance(r, _Worker)]
            failure = next((r for r in results if isinstance(r, BaseException)), None)
            if failure is not None:
                await asyncio.gather(*(w.stop() for w in workers))
                if isinstance(failure, SynthesisError):
                    raise failure
                raise SynthesisError(f"could not start the speech workers: {failure!r}") from failure
            for w in workers:
                self._workers.add(w)
                self._idle.put_nowait(w)
            logger.info("speech workers ready: %s", ", ".join(f"pid {w.pid} in {w.startup_ms:.0f} ms" for w in workers))
            self._started = True

    async def close(self) -> None:
        self._closed = True
        while self._background:
            tasks = list(self._background)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*self._reaping, return_exceptions=True)
        if self._idle is not None:
            self._idle.put_nowait(None)  # wakes whoever waits for a worker
        workers, self._workers = list(self._workers), set()
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)

    async def __aenter__(self) -> Pyttsx3Synthesizer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    @property
    def stats(self) -> TtsStats:
        return TtsStats(self._requests, self._hits, self._syntheses, self._retries, self._restarts,
                        sum(w.alive for w in self._workers), self._in_flight)

    @property
    def worker_pids(self) -> tuple[int, ...]:
        return tuple(sorted(w.pid for w in self._workers if w.alive))

    @property
    def worker_startup_ms(self) -> tuple[float, ...]:
        return tuple(w.startup_ms for w in self._workers)

    # the Synthesizer interface

    async def sentences(self, text: str, *, out_rate: int = 16000,
                        settings: VoiceSettings = VoiceSettings()) -> AsyncIterator[bytes]:
        _check_out_rate(out_rate)
        chunks = split_sentences(text or "", self._max_chunk_chars)
        tasks: list[asyncio.Future | None] = [None] * len(chunks)
        produced = False
        try:
            for i in range(len(chunks)):
                # one sentence ahead: the next is made while this one is played
                for j in (i, i + 1):
                    if j < len(chunks) and tasks[j] is None:
                        tasks[j] = asyncio.ensure_future(self._chunk(chunks[j], out_rate, settings))
                        tasks[j].add_done_callback(_consume)
                pcm = await tasks[i]
                tasks[i] = None
                if pcm:
                    produced = True
                    yield pcm
        finally:
            for task in tasks:
                if task is not None:
                    task.cancel()
        if chunks and not produced:
            raise SynthesisError(f"espeak-ng produced no audio for {text[:40]!r}")

    async def synthesize(self, text: str, *, out_rate: int = 16000, settings: VoiceSettings = VoiceSettings()) -> bytes:
        return b"".join([pcm async for pcm in self.sentences(text, out_rate=out_rate, settings=settings)])

    async def prewarm(self, texts: Iterable[str] | str, *, out_rates: Iterable[int] = OUT_RATES,
                      settings: VoiceSettings = VoiceSettings()) -> None:
        """Synthesizes fixed prompts now and keeps their audio for good (outside the LRU)."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        rates = list(out_rates)
        for rate in rates:
            _check_out_rate(rate)
        chunks = {c for t in texts for c in split_sentences(t, self._max_chunk_chars)}
        results = await asyncio.gather(*(self._chunk(c, r, settings, pin=True) for c in chunks for r in rates),
                                       return_exceptions=True)
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            raise failure

    # one chunk

    async def _chunk(self, text: str, out_rate: int, settings: VoiceSettings, *, pin: bool = False) -> bytes:
        key: _Key = (text, settings.voice, settings.rate_wpm, float(settings.volume), out_rate)
        self._requests += 1
        cached = self._cache_get(key)
        if cached is not None:
            self._hits += 1
            if pin:
                self._pin(key, cached)
            return cached
        await self.start()
        worker = await self._acquire()
        # shielded: if our caller is cancelled (barge-in), the worker still finishes and goes back to the pool
        # with its pipes in step; the audio lands in the cache
        job = asyncio.ensure_future(self._run(worker, key, settings, pin))
        self._background.add(job)
        job.add_done_callback(self._background.discard)
        job.add_done_callback(_consume)
        return await asyncio.shield(job)

    async def _run(self, worker: _Worker, key: _Key, settings: VoiceSettings, pin: bool) -> bytes:
        text, out_rate = key[0], key[4]
        retried = False
        while True:
            self._in_flight += 1
            try:
                pcm = await asyncio.wait_for(worker.render(text, out_rate, settings), self._timeout_s)
            except _WorkerLost as exc:
                logger.warning("speech worker pid %s lost: %s", worker.pid, exc)
                self._retire(worker)
                if retried:
                    raise SynthesisError(f"speech synthesis failed twice: {exc}") from None
                retried = True
                self._retries += 1
                worker = await self._acquire()
                continue
            except asyncio.TimeoutError:
                self._retire(worker)
                raise SynthesisError(f"speech synthesis took over {self._timeout_s:g} s") from None
            except SynthesisError:
                self._release(worker)
                raise
            except BaseException:
                self._retire(worker)  # cancelled mid-request (close): its pipes are out of step
                raise
            finally:
                self._in_flight -= 1
            self._release(worker)
            self._syntheses += 1
            if pin:
                self._pin(key, pcm)
            else:
                self._cache_put(key, pcm)
            return pcm

    # workers

    async def _acquire(self) -> _Worker:
        while True:
            worker = await self._next_idle()
            if worker is None:
                self._idle.put_nowait(None)  # for the next waiter
                raise SynthesisError("the synthesizer is closed")
            if worker.alive:
                return worker
            self._retire(worker)  # died while idle

    async def _next_idle(self) -> _Worker | None:
        # not asyncio.wait_for(queue.get()): before Python 3.12 it can drop the item it times out on
        getter = asyncio.ensure_future(self._idle.get())
        try:
            await asyncio.wait({getter}, timeout=self._acquire_timeout_s)
        except asyncio.CancelledError:
            getter.cancel()
            if getter.done() and not getter.cancelled():
                self._idle.put_nowait(getter.result())
            raise
        if not getter.done():
            getter.cancel()  # Queue.get leaves the item in the queue when cancelled, even at the last moment
            raise SynthesisError(f"no speech worker became free within {self._acquire_timeout_s:g} s"
                                 + (f" (last start-up error: {self._last_spawn_error})" if self._last_spawn_error
                                    else ""))
        return getter.result()

    def _release(self, worker: _Worker) -> None:
        if self._closed or not worker.alive:
            self._retire(worker)
        else:
            self._idle.put_nowait(worker)

    def _retire(self, worker: _Worker) -> None:
        if worker not in self._workers:
            return
        self._workers.discard(worker)
        worker.kill()
        reaping = asyncio.ensure_future(worker.reap())
        self._reaping.add(reaping)
        reaping.add_done_callback(self._reaping.discard)
        reaping.add_done_callback(_consume)
        if not self._closed:
            self._restarts += 1
            self._track(asyncio.ensure_future(self._replace()))

    def _track(self, task: asyncio.Future) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_consume)

    async def _replace(self) -> None:
        delay = 0.5
        while not self._closed:
            try:
                worker = await _Worker.spawn(self._voice, self._start_timeout_s)
            except SynthesisError as exc:
                self._last_spawn_error = str(exc)
                logger.error("could not start a speech worker: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            if self._closed:
                await worker.stop()
                return
            logger.info("speech worker pid %s replaced a lost one (%.0f ms)", worker.pid, worker.startup_ms)
            self._workers.add(worker)
            self._idle.put_nowait(worker)
            return

    # cache

    def _cache_get(self, key: _Key) -> bytes | None:
        pcm = self._pinned.get(key)
        if pcm is None:
            pcm = self._cache.get(key)
            if pcm is not None:
                self._cache.move_to_end(key)
        return pcm

    def _cache_put(self, key: _Key, pcm: bytes) -> None:
        if self._cache_size <= 0 or len(pcm) > self._cache_bytes or key in self._pinned:
            return
        old = self._cache.pop(key, None)
        if old is not None:
            self._cached_bytes -= len(old)
        self._cache[key] = pcm
        self._cached_bytes += len(pcm)
        while len(self._cache) > self._cache_size or self._cached_bytes > self._cache_bytes:
            _, evicted = self._cache.popitem(last=False)
            self._cached_bytes -= len(evicted)

    def _pin(self, key: _Key, pcm: bytes) -> None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._cached_bytes -= len(old)
        self._pinned[key] = pcm
