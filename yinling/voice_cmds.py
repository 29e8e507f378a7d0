"""`yinling speaker` (a software home speaker) and `yinling devices` (bind speakers to residents)."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit


def cmd_speaker(args: argparse.Namespace) -> int:
    from voice.audio import wav_bytes
    from voice.errors import VoiceError

    if args.wav is None:
        return _microphone(args)
    wav = Path(args.wav).read_bytes()
    try:
        if args.protocol == "wyoming":
            exchange = asyncio.run(_wyoming_once(args, wav))
        else:
            from voice.speaker_client import talk_websocket

            exchange = asyncio.run(talk_websocket(args.url, wav, resident=args.resident, device=args.device,
                                                  out_rate=args.out_rate, realtime=args.realtime))
    except (OSError, VoiceError, TimeoutError, ConnectionError) as e:
        print(f"（说话失败：{e}）", file=sys.stderr)
        return 1
    print(f"听到：{exchange.transcript or '（没听清）'}")
    print(f"银龄：{exchange.answer}")
    if args.out and exchange.audio:
        Path(args.out).write_bytes(wav_bytes(bytes(exchange.audio), exchange.rate))
        print(f"回答的声音写到了 {args.out}（{len(exchange.audio) / 2 / exchange.rate:.1f} 秒，{exchange.rate} Hz）")
    return 0


async def _wyoming_once(args: argparse.Namespace, wav: bytes):
    from voice.speaker_client import WavSatellite

    where = urlsplit(args.listen)
    satellite = WavSatellite(where.hostname or "127.0.0.1", where.port or 10700)
    await satellite.start()
    print(f"卫星在 {args.listen} 等银龄连接（设备要先登记：yinling devices add …）", file=sys.stderr)
    try:
        return await satellite.speak(wav, realtime=args.realtime, timeout_s=args.timeout)
    finally:
        await satellite.stop()


def _microphone(args: argparse.Namespace) -> int:
    try:
        import sounddevice as sd

        sd.check_input_settings(samplerate=16000, channels=1, dtype="int16")
        sd.check_output_settings(samplerate=args.out_rate, channels=1, dtype="int16")
    except Exception as e:  # no PortAudio, or no microphone / loudspeaker on this machine
        print(f"没有可用的麦克风或喇叭（{e}）。用 --wav 文件代替。", file=sys.stderr)
        return 2
    return asyncio.run(_talk_live(args, sd))


async def _talk_live(args: argparse.Namespace, sd) -> int:
    import websockets

    who = f"resident={args.resident}" if args.resident else f"device={args.device}"
    loop = asyncio.get_running_loop()
    mic: asyncio.Queue[bytes] = asyncio.Queue()
    with sd.RawInputStream(samplerate=16000, channels=1, dtype="int16", blocksize=1024,
                           callback=lambda data, *_: loop.call_soon_threadsafe(mic.put_nowait, bytes(data))), \
            sd.RawOutputStream(samplerate=args.out_rate, channels=1, dtype="int16") as speaker:
        async with websockets.connect(f"{args.url}?{who}&out_rate={args.out_rate}", max_size=None) as ws:
            print("请说话（Ctrl-C 结束）")

            async def send() -> None:
                while True:
                    await ws.send(await mic.get())

            sender = asyncio.create_task(send())
            try:
                async for message in ws:
                    if isinstance(message, bytes):
                        await asyncio.to_thread(speaker.write, message)
                        continue
                    event = json.loads(message)
                    if event["type"] in ("transcript", "answer", "error"):
                        print(event["type"], event.get("text") or event.get("message"))
                    elif event["type"] == "audio_stop":
                        await ws.send(json.dumps({"type": "played"}))
            except KeyboardInterrupt:
                pass
            finally:
                sender.cancel()
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from services.errors import ServiceError
    from services.facade import Services

    given = {name: getattr(args, name) for name in _ENDPOINT_FLAGS.values() if getattr(args, name) is not None}
    if given and args.action not in ("add", "endpoint"):
        print(f"error: end-of-speech settings go with add or endpoint, not {args.action}", file=sys.stderr)
        return 2
    if args.wake_phrase is not None and args.action not in ("add", "wake"):
        print(f"error: --wake-phrase goes with add or wake, not {args.action}", file=sys.stderr)
        return 2
    services = Services(args.database_url)
    try:
        if args.action == "add":
            kind = "wyoming" if args.uri else "websocket"
            d = services.register_device(args.id, kind, args.uri, args.resident, args.name or args.id, actor="cli")
            print(f"{d.id}: {d.kind} {d.uri or ''} → {d.resident_id}")
        elif args.action in ("enable", "disable"):
            services.set_device_enabled(args.id, args.action == "enable", actor="cli")
        elif args.action == "remove":
            d = services.remove_device(args.id or "", actor="cli")
            print(f"{d.id}: removed ({d.kind} {d.uri or ''} → {d.resident_id})")
        if args.action == "wake" or (args.wake_phrase is not None and args.action == "add"):
            d = services.get_device(args.id or "")
            if args.wake_phrase is not None:
                phrase = None if args.wake_phrase == "default" else args.wake_phrase
                d = services.set_device_wake_phrase(d.id, phrase, actor="cli")
            print(f"{d.id}: wake phrase {d.wake_phrase or 'default'}")
        if args.action == "endpoint" or given:
            d = services.get_device(args.id or "")
            if given:  # only the settings named change; "default" clears one
                changes = {name: None if value == "default" else value for name, value in given.items()}
                d = services.set_device_endpoint(d.id, replace(d.endpoint, **changes), actor="cli")
            print(f"{d.id}: {_endpoint_text(d.endpoint)}")
        elif args.action == "list":
            for d in services.devices(enabled_only=False):
                print(f"{d.id}\t{d.kind}\t{d.uri or '-'}\t{d.resident_id}\t{'on' if d.enabled else 'off'}\t{d.name}"
                      f"\t{_endpoint_text(d.endpoint)}\twake={d.wake_phrase or 'default'}")
    except ServiceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        services.close()
    return 0


# `yinling devices endpoint` flags → DeviceEndpoint fields (seconds)
_ENDPOINT_FLAGS = {"--trailing-silence": "trailing_silence_s", "--max-utterance": "max_utterance_s",
                   "--no-speech-timeout": "no_speech_timeout_s"}


def _seconds_or_default(text: str) -> float | str:
    if text == "default":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seconds or 'default', got {text!r}") from None


def _endpoint_text(endpoint) -> str:
    """trailing-silence=0.8s max-utterance=default …: the device's own settings, in the flags' words."""
    words = []
    for flag, name in _ENDPOINT_FLAGS.items():
        value = getattr(endpoint, name)
        words.append(f"{flag[2:]}={'default' if value is None else f'{value:g}s'}")
    return " ".join(words)


def add_commands(sub) -> None:
    speaker = sub.add_parser("speaker", help="talk to Yinling like a home speaker (WAV file or microphone)")
    speaker.add_argument("--wav", help="utterance to send (WAV: 8-48 kHz, mono or stereo, 16-bit)")
    speaker.add_argument("--out", help="write the spoken answer to this WAV file")
    speaker.add_argument("--protocol", choices=["websocket", "wyoming"], default="websocket")
    speaker.add_argument("--url", default="ws://127.0.0.1:8000/api/voice")
    speaker.add_argument("--resident", default="r-0001")
    speaker.add_argument("--device", default=None, help="a registered device id instead of --resident")
    speaker.add_argument("--listen", default="tcp://127.0.0.1:10700", help="Wyoming: where this satellite listens")
    speaker.add_argument("--out-rate", type=int, default=16000, choices=[8000, 16000])
    speaker.add_argument("--realtime", action="store_true", help="send audio at speaking pace")
    speaker.add_argument("--timeout", type=float, default=120.0)
    speaker.set_defaults(func=cmd_speaker)

    devices = sub.add_parser("devices", help="home speakers and the residents they belong to")
    devices.add_argument("action", choices=["list", "add", "enable", "disable", "remove", "endpoint", "wake"],
                         help="endpoint: show or set a device's end of speech (the flags below: seconds, "
                              "or 'default' for the gateway's YINLING_TRAILING_SILENCE_S etc.); "
                              "wake: show or set (--wake-phrase) what wakes a satellite")
    devices.add_argument("id", nargs="?", default=None, help="device id, e.g. spk-0001")
    devices.add_argument("--uri", default=None, help="a Wyoming satellite: tcp://host:10700")
    devices.add_argument("--resident", default="r-0001")
    devices.add_argument("--name", default=None)
    for flag, name in _ENDPOINT_FLAGS.items():
        devices.add_argument(flag, dest=name, type=_seconds_or_default, default=None, metavar="SECONDS")
    devices.add_argument("--wake-phrase", default=None, metavar="PHRASE",
                         help="what wakes this satellite, e.g. 小银小银 ('default': the recogniser language's)")
    devices.add_argument("--database-url", default=None)
    devices.set_defaults(func=cmd_devices)
