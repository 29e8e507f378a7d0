"""The SIP stack (PJSIP through pjsua2) behind a small interface of ours.

PJSIP does the SIP and RTP work: INVITE/ACK/BYE/CANCEL/OPTIONS, SDP offer/answer, G.711 at 8 kHz,
RFC 2833 telephone events, REFER, RTP timing from its own media clock. We keep it in one thread
that owns the endpoint: every pjsua2 call is made there (commands arrive on a queue), and what
happens on the line leaves as plain dataclass events through `on_event`, which the phone line
forwards to its asyncio loop. Audio leaves and enters through `CallAudio`, whose two buffers are
touched from PJSIP's media clock thread.

Only PCMU and PCMA are offered or accepted (an offer with neither gets 488 from PJSIP), and
silence is sent as audio rather than suppressed, so the caller's jitter buffer never starves.
"""
from __future__ import annotations

import logging
import queue
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Union

from phone.errors import SipStartError

logger = logging.getLogger(__name__)

RATE = 8000
FRAME_MS = 20
FRAME_BYTES = RATE * FRAME_MS // 1000 * 2  # 16-bit mono PCM in one 20 ms frame
CODECS = ("PCMU/8000", "PCMA/8000")
DELIVER_FRAMES = 3  # received audio goes to the voice chain 60 ms at a time


@dataclass(frozen=True)
class SipSettings:
    host: str = "127.0.0.1"
    port: int = 5060
    rtp_port: int = 10000
    rtp_port_range: int = 2000
    # calls served at once: pjsua2-python's PJSIP is built with PJSUA_MAX_CALLS = 4, its hard ceiling
    max_calls: int = 4
    user: str = "yinling"
    log_level: int = 1  # PJSIP's own log, 0-6
    deliver_frames: int = 3  # received audio is handed on this many 20 ms frames at a time
    # the stack's own ceiling (calls in any state, including ones being turned away)
    stack_max_calls: int = 64


# --- events (SIP thread -> phone line) --------------------------------------------------------
@dataclass(frozen=True)
class IncomingCall:
    call_id: int
    sip_call_id: str  # the Call-ID header: stable across retransmissions
    caller: str  # the user part of the From URI: the caller's number where a PBX sends one
    display: str
    remote_uri: str
    local_uri: str


@dataclass(frozen=True)
class MediaReady:
    call_id: int
    audio: "CallAudio"
    codec: str


@dataclass(frozen=True)
class DtmfDigit:
    call_id: int
    digit: str


@dataclass(frozen=True)
class TransferStatus:
    call_id: int
    code: int
    reason: str
    final: bool


@dataclass(frozen=True)
class TransferRequested:
    """The far end asked us (as the caller) to call someone else (REFER); we follow it."""
    call_id: int
    new_call_id: int
    target: str


@dataclass(frozen=True)
class Dialled:
    call_id: int
    target: str


@dataclass(frozen=True)
class CallEnded:
    call_id: int
    code: int
    reason: str


@dataclass(frozen=True)
class CallRejected:
    """PJSIP itself turned an INVITE away (486 when all its call slots are taken) before any call
    existed for us; call_id is -1. The line counts these too, or a full line would look idle."""
    call_id: int
    code: int
    reason: str


SipEvent = Union[IncomingCall, Dialled, MediaReady, DtmfDigit, TransferStatus, TransferRequested, CallEnded,
                 CallRejected]

_URI_USER = re.compile(r"sips?:([^@;>]+)@")
_DISPLAY = re.compile(r'^\s*"?([^"<]*?)"?\s*<')


def caller_of(uri: str) -> tuple[str, str]:
    """(user part, display name) of a SIP name-addr such as '"张" <sip:13800000001@host>'."""
    user = _URI_USER.search(uri)
    display = _DISPLAY.match(uri)
    return (user.group(1) if user else ""), (display.group(1).strip() if display else "")


class CallAudio:
    """The two audio buffers of one call, shared by the media clock thread and the phone line.

    Received audio is handed on in 60 ms pieces; audio to play is queued as bytes and taken 20 ms
    at a time at the media clock's pace, with silence when there is nothing to say.
    """

    def __init__(self, call_id: int, on_audio: Callable[[int, bytes], None], deliver_frames: int = DELIVER_FRAMES) -> None:
        self.call_id = call_id
        self._deliver = max(1, deliver_frames)
        self._on_audio = on_audio
        self._lock = threading.Lock()
        self._out = bytearray()
        self._in: list[bytes] = []
        self.frames_in = 0  # frames from the bridge: one every 20 ms, RTP or not
        self.frames_out = 0
        self.rx_packets = 0  # RTP packets the stream took from the caller (the SIP thread counts, 1/s)
        self.first_voice_out_at: float | None = None  # monotonic time the first queued audio left
        self._mark: float | None = None  # when play() was called after the buffer had drained
        self.drained_at: float | None = None  # monotonic time the last queued audio left
        self.drained = threading.Event()
        self.drained.set()

    # called by the phone line
    def play(self, pcm: bytes) -> None:
        with self._lock:
            if not self._out:
                self._mark = time.monotonic()
            self._out += pcm
            self.drained.clear()

    def clear(self) -> None:
        """Stop what is playing (barge-in, or a new answer that must be heard at once)."""
        with self._lock:
            self._out.clear()
            self.drained.set()

    @property
    def queued_s(self) -> float:
        with self._lock:
            return len(self._out) / (RATE * 2)

    # called by the media clock thread
    def next_frame(self) -> bytes:
        with self._lock:
            self.frames_out += 1
            if not self._out:
                return bytes(FRAME_BYTES)
            frame = bytes(self._out[:FRAME_BYTES])
            del self._out[:FRAME_BYTES]
            if self._mark is not None:
                self.first_voice_out_at, self._mark = time.monotonic(), None
            if not self._out:
                self.drained_at = time.monotonic()
                self.drained.set()
        return frame.ljust(FRAME_BYTES, b"\0")

    def received(self, pcm: bytes) -> None:
        self.frames_in += 1
        self._in.append(pcm)
        if len(self._in) >= self._deliver:
            chunk, self._in = b"".join(self._in), []
            self._on_audio(self.call_id, chunk)


Command = Callable[[], None]


class SipEngine:
    """One PJSIP endpoint, owned by one thread. Commands are safe to call from any thread."""

    def __init__(self, settings: SipSettings, on_event: Callable[[SipEvent], None],
                 on_audio: Callable[[int, bytes], None]) -> None:
        self.settings = settings
        self._on_event = on_event
        self._on_audio = on_audio
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._calls: dict[int, Any] = {}  # call id -> pjsua2 Call (kept alive until disconnected)
        self._ports: dict[int, Any] = {}
        # Media ports of ended calls, kept registered with the conference bridge and given to the
        # next call instead of destroyed: PJSIP 2.14+ takes a port off the bridge by an operation
        # its media clock runs later, while ~AudioMediaPort frees the port at once, so destroying
        # ports mid-run risks the clock reading a freed one. They are destroyed with the endpoint.
        self._idle_ports: list[Any] = []
        self._audio: dict[int, CallAudio] = {}
        self._doomed: list[Any] = []  # pjsua2 objects freed outside their own callbacks
        self._pending_transfers: list[tuple[int, Any, str]] = []
        # calls PJSIP can hold at once, as it was built and configured (known once started)
        self.capacity = settings.stack_max_calls

    # --- life cycle -------------------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> None:
        self._thread = threading.Thread(target=self._run, name="sip", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise SipStartError("the SIP stack did not start in time")
        if self._error is not None:
            raise SipStartError(str(self._error)) from self._error

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    # --- commands -----------------------------------------------------------------------------
    def answer(self, call_id: int, code: int = 200) -> None:
        self._commands.put(lambda: self._answer(call_id, code))

    def hangup(self, call_id: int, code: int = 603) -> None:
        self._commands.put(lambda: self._hangup(call_id, code))

    def transfer(self, call_id: int, target_uri: str) -> None:
        self._commands.put(lambda: self._xfer(call_id, target_uri))

    def dial(self, target_uri: str, from_user: str | None = None) -> None:
        """Place a call (used by the test caller and the bench); a Dialled event gives its id."""
        self._commands.put(lambda: self._dial(target_uri, from_user or self.settings.user))

    def send_dtmf(self, call_id: int, digits: str) -> None:
        self._commands.put(lambda: self._dtmf(call_id, digits))

    def stream_stats(self, call_id: int, timeout_s: float = 2.0) -> dict[str, float] | None:
        """RTCP view of the call's audio (jitter, loss) as the far end reported it and as we saw it."""
        box: list[dict[str, float] | None] = []
        done = threading.Event()

        def read() -> None:
            try:
                box.append(self._stats(call_id))
            finally:
                done.set()
        self._commands.put(read)
        done.wait(timeout_s)
        return box[0] if box else None

    # --- the SIP thread -----------------------------------------------------------------------
    def _run(self) -> None:
        import pjsua2 as pj  # imported here so the rest of the project loads without PJSIP

        self._pj = pj
        ep = _make_endpoint(pj, self)
        try:
            self._init(pj, ep)
        except Exception as exc:  # a port in use, a bad address: reported to start()
            self._error = exc if not isinstance(exc, pj.Error) else SipStartError(exc.info())
            self._ready.set()
            try:
                ep.libDestroy()
            except Exception:
                pass
            return
        self._ready.set()
        next_count = time.monotonic()
        try:
            while not self._stop.is_set():
                ep.libHandleEvents(10)
                self._drain_commands()
                self._settle_transfers()
                self._free_doomed()
                if time.monotonic() >= next_count:
                    self._count_rx()
                    next_count = time.monotonic() + 1.0
        finally:
            try:
                ep.hangupAllCalls()
                ep.libHandleEvents(50)
            except Exception:
                logger.exception("hanging up at shutdown")
            self._ports.clear()
            self._idle_ports.clear()
            self._calls.clear()
            self._doomed.clear()
            self._accounts = {}
            ep.libDestroy()

    def _init(self, pj: Any, ep: Any) -> None:
        s = self.settings
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0  # we poll from this thread; the media clock has its own
        cfg.uaConfig.mainThreadOnly = False
        cfg.uaConfig.maxCalls = s.stack_max_calls
        cfg.uaConfig.userAgent = "Yinling hotline"
        cfg.logConfig.level = s.log_level
        cfg.logConfig.consoleLevel = s.log_level
        cfg.medConfig.clockRate = RATE
        cfg.medConfig.sndClockRate = RATE
        cfg.medConfig.channelCount = 1
        cfg.medConfig.audioFramePtime = FRAME_MS
        cfg.medConfig.noVad = True  # send silence as audio: the caller's jitter buffer never starves
        cfg.medConfig.ecTailLen = 0  # no echo canceller: the caller's phone does that
        cfg.medConfig.threadCnt = 1
        ep.libInit(cfg)
        # pjsua clamps maxCalls to its compile-time PJSUA_MAX_CALLS without a word, and the
        # pjsua2-python 2.15.1 wheel is built with 4: read back what it really holds.
        self.capacity = _stack_max_calls(s.stack_max_calls)
        if self.capacity < s.max_calls:
            logger.warning("PJSIP holds at most %d calls (PJSUA_MAX_CALLS of this build), not the %d configured: "
                           "the line serves %d at once", self.capacity, s.max_calls, self.capacity)
        tcfg = pj.TransportConfig()
        tcfg.port = s.port
        tcfg.boundAddress = s.host
        ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        ep.libStart()
        ep.audDevManager().setNullDev()  # no sound card: the null device's clock drives the bridge
        for codec in ep.codecEnum2():
            ep.codecSetPriority(codec.codecId, 0)
        for priority, codec in zip((255, 254), CODECS, strict=True):
            ep.codecSetPriority(codec, priority)
        self._accounts: dict[str, Any] = {}
        self._account_for(s.user, default=True)

    def _account_for(self, user: str, default: bool = False) -> Any:
        """A local account (no registrar) per user part: it names us in From and Contact."""
        account = self._accounts.get(user)
        if account is None:
            pj, s = self._pj, self.settings
            account = _make_account(pj, self)
            acfg = pj.AccountConfig()
            acfg.idUri = f"sip:{user}@{s.host}:{s.port}"
            acfg.mediaConfig.transportConfig.port = s.rtp_port
            acfg.mediaConfig.transportConfig.portRange = s.rtp_port_range
            acfg.mediaConfig.transportConfig.boundAddress = s.host
            acfg.sipConfig.contactForced = f"<sip:{user}@{s.host}:{s.port}>"
            account.create(acfg, default)
            self._accounts[user] = account
        return account

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                command()
            except self._pj.Error as exc:
                logger.warning("SIP command failed: %s", exc.info())
            except Exception:
                logger.exception("SIP command failed")

    def _op(self, code: int = 0) -> Any:
        prm = self._pj.CallOpParam(True)
        if code:
            prm.statusCode = code
        return prm

    def _answer(self, call_id: int, code: int) -> None:
        call = self._calls.get(call_id)
        if call is not None:
            call.answer(self._op(code))

    def _hangup(self, call_id: int, code: int) -> None:
        call = self._calls.get(call_id)
        if call is not None and call.isActive():
            call.hangup(self._op(code))

    def _xfer(self, call_id: int, target: str) -> None:
        call = self._calls.get(call_id)
        if call is None:
            return
        try:
            call.xfer(target, self._op())
        except self._pj.Error as exc:
            self._emit(TransferStatus(call_id, 500, exc.info(), True))

    def _dial(self, target: str, user: str) -> None:
        account = self._account_for(user)
        call = _make_call(self._pj, self, account, self._pj.PJSUA_INVALID_ID)
        call.makeCall(target, self._op())
        call_id = call.getId()
        self._calls[call_id] = call
        call.bind(call_id)
        self._emit(Dialled(call_id, target))

    def _count_rx(self) -> None:
        """How many RTP packets each call's stream took from its caller (a dead line's count stands
        still), read here on the SIP thread and left on the call's CallAudio for the watchdog."""
        for call_id, audio in list(self._audio.items()):
            call = self._calls.get(call_id)
            try:
                if call is not None and call.hasMedia():
                    audio.rx_packets = call.getStreamStat(0).rtcp.rxStat.pkt
            except self._pj.Error:
                pass

    def _free_doomed(self) -> None:
        """Let go of ended calls' pjsua2 objects, outside their callbacks.

        pjsua2's ~Call unbinds and hangs up (603) whatever call holds its id *now*, and pjsua hands a
        freed id to the next INVITE at once (one poll can carry a BYE and a new INVITE). So an old
        object whose id already belongs to a new call is disowned (left to C++, a few hundred bytes)
        instead of destroyed: destroying it declined the new call and cut it off from its callbacks,
        leaving it open on the line for good (found by tests/e2e/test_phone_sip_robustness.py's flood).
        """
        for obj in self._doomed:
            cid = getattr(obj, "cid", -1)
            if cid >= 0 and self._calls.get(cid) not in (None, obj):
                obj.__disown__()
        self._doomed.clear()

    def _settle_transfers(self) -> None:
        """After a REFER we accepted, the stack has placed the new call: give it its id."""
        pending, self._pending_transfers = self._pending_transfers, []
        for old_id, new_call, target in pending:
            new_id = new_call.getId()
            if new_id < 0:
                continue  # the stack did not place it
            new_call.bind(new_id)
            self._calls[new_id] = new_call
            self._emit(TransferRequested(old_id, new_id, target))

    def _dtmf(self, call_id: int, digits: str) -> None:
        call = self._calls.get(call_id)
        if call is not None:
            call.dialDtmf(digits)

    def _stats(self, call_id: int) -> dict[str, float] | None:
        call = self._calls.get(call_id)
        if call is None or not call.hasMedia():
            return None
        stat = call.getStreamStat(0)
        rx, tx = stat.rtcp.rxStat, stat.rtcp.txStat
        return {"rx_jitter_ms": rx.jitterUsec.mean / 1000, "rx_jitter_max_ms": rx.jitterUsec.max / 1000,
                "rx_packets": rx.pkt, "rx_lost": rx.loss, "rx_discarded": rx.discard,
                "tx_packets": tx.pkt, "tx_jitter_ms": tx.jitterUsec.mean / 1000, "tx_lost": tx.loss}

    # --- callbacks from pjsua2 (on this thread, or the media thread for frames) ----------------
    def _emit(self, event: SipEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            logger.exception("phone line could not take %s", type(event).__name__)

    def incoming(self, call: Any, call_id: int) -> None:
        self._calls[call_id] = call
        info = call.getInfo()
        user, display = caller_of(info.remoteUri)
        self._emit(IncomingCall(call_id, info.callIdString, user, display, info.remoteUri, info.localUri))

    def media_changed(self, call: Any, call_id: int) -> None:
        pj = self._pj
        info = call.getInfo()
        for media in info.media:
            if media.type != pj.PJMEDIA_TYPE_AUDIO or media.status != pj.PJSUA_CALL_MEDIA_ACTIVE:
                continue
            if call_id in self._ports:
                return  # a re-INVITE: the port stays connected
            audio = CallAudio(call_id, self._on_audio, self.settings.deliver_frames)
            if self._idle_ports:
                port = self._idle_ports.pop()
            else:
                port = _make_port(pj)
                fmt = pj.MediaFormatAudio()
                fmt.init(pj.PJMEDIA_FORMAT_PCM, RATE, 1, FRAME_MS * 1000, 16)
                port.createPort(f"line{len(self._ports) + 1}-{call_id}", fmt)
            port.audio = audio
            remote = call.getAudioMedia(media.index)
            remote.startTransmit(port)
            port.startTransmit(remote)
            self._ports[call_id] = port
            self._audio[call_id] = audio
            codec = ""
            try:
                codec = call.getStreamInfo(media.index).codecName
            except pj.Error:
                pass
            self._emit(MediaReady(call_id, audio, codec))
            return

    def ended(self, call_id: int, code: int, reason: str) -> None:
        call = self._calls.pop(call_id, None)
        port = self._ports.pop(call_id, None)
        self._audio.pop(call_id, None)
        if port is not None:
            port.audio = None  # silent and deaf until the next call takes it
            self._idle_ports.append(port)
        if call is not None:
            self._doomed.append(call)  # freed after this callback returns
        self._emit(CallEnded(call_id, code, reason))

    @property
    def active_calls(self) -> int:
        return len(self._calls)


def _stack_max_calls(configured: int) -> int:
    """pjsua's own call ceiling after libInit (pjsua_call_get_max_count, which pjsua2 does not wrap)."""
    import ctypes

    import pjsua2._pjsua2 as native

    try:
        return min(configured, int(ctypes.CDLL(native.__file__).pjsua_call_get_max_count()))
    except (OSError, AttributeError):  # a build that does not export it: trust the configuration
        return configured


def _make_endpoint(pj: Any, engine: SipEngine) -> Any:
    class Endpoint(pj.Endpoint):
        def onRejectedIncomingCall(self, prm: Any) -> None:  # noqa: N802 (pjsua2's names)
            engine._emit(CallRejected(-1, prm.statusCode, prm.reason))

    return Endpoint()


def _make_account(pj: Any, engine: SipEngine) -> Any:
    class Account(pj.Account):
        def onIncomingCall(self, prm: Any) -> None:  # noqa: N802 (pjsua2's names)
            call = _make_call(pj, engine, self, prm.callId)
            call.bind(prm.callId)
            engine.incoming(call, prm.callId)

    return Account()


def _make_call(pj: Any, engine: SipEngine, account: Any, call_id: int) -> Any:
    class Call(pj.Call):
        def bind(self, cid: int) -> None:
            self.cid = cid

        @property
        def key(self) -> int:
            if self.cid < 0:  # a call placed by the stack for a REFER, before we settled it
                self.cid = self.getId()
            return self.cid

        def onCallState(self, prm: Any) -> None:  # noqa: N802
            info = self.getInfo()
            if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                engine.ended(self.key, info.lastStatusCode, info.lastReason)

        def onCallMediaState(self, prm: Any) -> None:  # noqa: N802
            engine.media_changed(self, self.key)

        def onDtmfDigit(self, prm: Any) -> None:  # noqa: N802
            engine._emit(DtmfDigit(self.key, prm.digit))

        def onCallTransferStatus(self, prm: Any) -> None:  # noqa: N802
            engine._emit(TransferStatus(self.key, prm.statusCode, prm.reason, bool(prm.finalNotify)))

        def onCallTransferRequest(self, prm: Any) -> None:  # noqa: N802 (we are the caller being referred)
            new_call = _make_call(pj, engine, account, pj.PJSUA_INVALID_ID)
            new_call.bind(-1)
            prm.newCall = new_call
            prm.statusCode = 202
            engine._pending_transfers.append((self.key, new_call, prm.dstUri))

    call = Call(account, call_id)
    call.cid = call_id
    return call
def _make_port(pj: Any) -> Any:
    """A media port on the conference bridge that serves whichever call's CallAudio it holds."""
    audio_type = pj.PJMEDIA_FRAME_TYPE_AUDIO
    silence = bytes(FRAME_BYTES)

    class Port(pj.AudioMediaPort):
        audio: CallAudio | None = None

        def onFrameRequested(self, frame: Any) -> None:  # noqa: N802 (media clock thread)
            audio = self.audio  # read once: the SIP thread may hand the port on meanwhile
            frame.type = audio_type
            frame.buf = pj.ByteVector(audio.next_frame() if audio is not None else silence)

        def onFrameReceived(self, frame: Any) -> None:  # noqa: N802 (media clock thread)
            audio = self.audio
            if audio is not None and frame.type == audio_type and frame.size:
                audio.received(bytes(tuple(frame.buf)))

    return Port()
