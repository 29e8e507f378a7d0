"""`yinling` command: run the assistant, chat with it, manage the database."""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import uuid
from datetime import date

import httpx

from common.service_key import auth_header
from yinling import voice_cmds
from yinling.stack import Stack, StackConfig, StackError
from yinling.supervisor import Supervisor, supervisor_logger


def cmd_run(args: argparse.Namespace) -> int:
    from services import production
    from services.facade import Services

    config = StackConfig(
        rasa_port=args.rasa_port, actions_port=args.actions_port, gateway_port=args.gateway_port,
        database_url=args.database_url,
    )
    services = Services(args.database_url)
    try:  # before anything is migrated, seeded or spawned
        production.enforce(production_report(services, config), who="yinling run")
    except production.ProductionRefused as e:
        services.close()
        print(e, file=sys.stderr, flush=True)
        return 2
    if production.is_production():
        services.migrate()  # no demo data in production
    else:
        services.create_all_and_seed()  # migrate + top up demo menus from today (China time)
    stack = Stack(config)
    first_start = fetch_voice_model()  # before the gateway starts: it loads the model it finds
    print("启动中 Starting Rasa, the action server and the gateway (about 30 s)…", flush=True)
    try:
        stack.start()
    except StackError as e:
        print(f"Could not start: {e}", file=sys.stderr)
        stack.stop()
        return 1
    except KeyboardInterrupt:  # Ctrl-C while starting: stop what has started
        stack.stop()
        return 130
    print(
        "\n银龄 Yinling is running.\n"
        f"  Chat in a terminal:     .venv/bin/python -m yinling chat                 (as resident r-0001)\n"
        f"                          .venv/bin/python -m yinling chat --sender r-0002\n"
        f"  Family page:            {config.gateway_url}/family      (demo: zhang.jianguo / yinling-demo-2026)\n"
        f"  Operator console:       {config.gateway_url}/console     (demo: op.li or sup.wang / yinling-demo-2026)\n"
        f"  Chat over HTTP:         curl -s {config.gateway_url}/api/chat -H 'content-type: application/json' \\\n"
        f"                            -H \"Authorization: Bearer $(cat var/service.key)\" \\\n"
        f"                            -d '{{\"sender\":\"r-0001\",\"message\":\"明天中午订两份饭\"}}'\n"
        f"  Talk (WAV file in/out): .venv/bin/python -m yinling speaker --wav question.wav --out answer.wav\n"
        f"  Voice WebSocket:        {config.gateway_url.replace('http://', 'ws://')}/api/voice?resident=r-0001\n"
        f"  Home speakers:          .venv/bin/python -m yinling devices add spk-0001 --uri tcp://HOST:10700 "
        f"--resident r-0001\n"
        f"  Phone hotline (SIP):    sip:hotline@{os.environ.get('YINLING_SIP_HOST', '127.0.0.1')}:"
        f"{os.environ.get('YINLING_SIP_PORT', '5060')}   (G.711; keys 1 meals, 2 subsidies, 0 operator, 9 help, * repeat)\n"
        f"  Call it from here:      .venv/bin/python -m yinling call --wav question.wav --out heard.wav --key 1\n"
        f"  API docs:               {config.gateway_url}/docs\n"
        f"  Rasa REST channel:      {config.rasa_url}/webhooks/rest/webhook\n"
        f"  Logs:                   {config.log_dir}\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    say_which_voice_model(first_start)
    supervised_log = supervisor_logger(config.log_dir)
    supervisor = Supervisor(stack, list(stack.processes), start_timeout_s=config.start_timeout_s)
    pauses = ", ".join(f"{p:g}" for p in supervisor.backoff.pauses_s)
    print(f"A process that dies is restarted (after {pauses} s; the others keep serving); what happens is "
          f"said here and in {supervised_log}.", flush=True)
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        supervisor.run(until=lambda: stopping)  # in this thread: the children die with the thread that started them
    finally:
        stack.stop()  # first: printing may fail when the terminal or a pipe is gone
        with contextlib.suppress(OSError):
            print("Stopped.", flush=True)
    return 0


def production_report(services, config: StackConfig, *, accounts: bool | None = None):
    """What production mode finds for this database and the listeners `yinling run` starts (`accounts`:
    services.production.check's; check-production always verifies them)."""
    from services import production

    listeners = [production.Listener(name, config.host) for name in ("gateway", "rasa", "actions")]
    return production.check(services.engine, listeners + production.sip_listener(os.environ), accounts=accounts)


def cmd_check_production(args: argparse.Namespace) -> int:
    from services import production
    from services.facade import Services

    services = Services(args.database_url)
    try:
        report = production_report(services, StackConfig(database_url=args.database_url), accounts=True)
    finally:
        services.close()
    mode = "production" if production.is_production() else "development"
    for listener in report.allowed_public:
        print(f"warning: the {listener.label} listens on public address {listener.host or 'every interface'} "
              f"({production.ALLOW_PUBLIC}=1 says it is meant)")
    if not report.findings:
        print(f"ok: nothing blocks production mode (now in {mode} mode)")
        return 0
    print(report.message().replace("refuses to start", "would refuse to start", 1) if mode == "development"
          else report.message())
    return 1


def fetch_voice_model():
    """The Mandarin model into var/models when it is missing (voice.models.ensure_default_model: a few
    seconds at most offline, then not again for a day). Returns its FirstStart, None when YINLING_VOSK_MODEL
    selects another model."""
    from voice.models import ensure_default_model, progress_printer

    return ensure_default_model(progress=progress_printer(), announce=lambda text: print(text, flush=True))


def say_which_voice_model(first_start=None) -> None:
    """The model the gateway loads (it resolves the same way), or why it runs on the Korean test model."""
    from voice.errors import ModelNotFound
    from voice.models import resolve_model_path

    try:
        print(f"Voice model: {resolve_model_path(os.environ.get('YINLING_VOSK_MODEL') or None)}", flush=True)
    except ModelNotFound as e:
        why = f"Voice: {first_start.problem}\n" if first_start is not None and first_start.problem else ""
        print(f"{why}Voice: {e}\n       Until then the speaker runs on the Korean test model and will not understand "
              "Mandarin.", flush=True)


def cmd_chat(args: argparse.Namespace) -> int:
    url = args.url.rstrip("/") + "/api/chat"
    print(f"银龄 — 以 {args.sender} 的身份聊天。输入中文，回车发送；空行或 Ctrl-D 退出。")
    with httpx.Client(timeout=30, headers=auth_header()) as client:
        while True:
            try:
                text = input("您：").strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if not text:
                return 0
            try:
                response = client.post(url, json={"sender": args.sender, "message": text,
                                                  "message_id": uuid.uuid4().hex})
            except httpx.HTTPError as e:
                print(f"（连不上助手：{e}。先运行 make run。）")
                continue
            if response.status_code != 200:
                print(f"（{response.status_code}: {response.text}）")
                continue
            reply = response.json()
            for message in reply["messages"]:
                if message.get("text"):
                    buttons = " / ".join(b["title"] for b in message.get("buttons") or [])
                    print(f"银龄：{message['text']}" + (f"  [{buttons}]" if buttons else ""))
            if reply.get("handed_off"):
                print("（已转人工）")


def cmd_db(args: argparse.Namespace) -> int:
    from services.facade import Services
    from services.migrate import upgrade

    if args.action in ("backup", "restore"):
        return cmd_db_backup(args)
    if args.action == "upgrade":
        upgrade(args.database_url)
    else:
        Services(args.database_url).create_all_and_seed(date.fromisoformat(args.today) if args.today else None)
    print("ok")
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    """`db backup FILE` / `db restore FILE --database-url URL [--force]` (services.backup does the work)."""
    from services import backup

    if not args.file:
        print(f"yinling db {args.action}: give the backup FILE", file=sys.stderr)
        return 2
    try:
        if args.action == "backup":
            info = backup.backup(args.file, args.database_url)
            print(f"backup of the {info.kind} database written to {info.path} ({info.size_bytes} bytes, mode 0600; "
                  "it holds personal data)")
        else:
            if not args.database_url:
                print("yinling db restore: --database-url URL is required (the fresh database to restore into)",
                      file=sys.stderr)
                return 2
            info = backup.restore(args.file, args.database_url, force=args.force)
            print(f"restored {info.path} into the {info.kind} database and migrated it to the newest revision")
    except backup.BackupError as e:
        print(f"yinling db {args.action}: {e}", file=sys.stderr)
        return 1
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    """A softphone call to the hotline: hear the greeting, say the WAV, press the key, write what was heard."""
    from phone.caller import main as caller_main

    steps = ["greeting"]
    if args.wav:
        steps += [f"say:{args.wav}", "answer"]
    if args.key:
        steps += [f"dtmf:{args.key}", "answer"]
    argv = [args.to, "--from", args.number, "--port", str(args.port)]
    for step in steps:
        argv += ["--step", step]
    if args.out:
        argv += ["--out", args.out]
    return caller_main(argv)


def cmd_models(args: argparse.Namespace) -> int:
    from voice.models import cli_main

    return cli_main(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yinling", description="银龄 Yinling assistant")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start Rasa, the action server and the gateway")
    run.add_argument("--rasa-port", type=int, default=5005)
    run.add_argument("--actions-port", type=int, default=5055)
    run.add_argument("--gateway-port", type=int, default=8000)
    run.add_argument("--database-url", default=None, help="default: YINLING_DATABASE_URL or var/yinling.db")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check-production", help="list what keeps this setup out of production mode "
                           "(YINLING_ENV=production); exits 1 when anything does")
    check.add_argument("--database-url", default=None, help="default: YINLING_DATABASE_URL or var/yinling.db")
    check.set_defaults(func=cmd_check_production)

    chat = sub.add_parser("chat", help="chat with the running assistant in this terminal")
    chat.add_argument("--sender", default="r-0001", help="resident id (default r-0001)")
    chat.add_argument("--url", default="http://127.0.0.1:8000")
    chat.set_defaults(func=cmd_chat)

    db = sub.add_parser("db", help="migrate, seed, back up or restore the services database")
    db.add_argument("action", choices=["upgrade", "seed", "backup", "restore"])
    db.add_argument("file", nargs="?", help="backup/restore: the backup file")
    db.add_argument("--database-url", default=None, help="default: YINLING_DATABASE_URL or var/yinling.db "
                    "(restore: required, a fresh database)")
    db.add_argument("--force", action="store_true", help="restore: replace what the database holds")
    db.add_argument("--today", default=None, help="YYYY-MM-DD the seed menus start from")
    db.set_defaults(func=cmd_db)

    models = sub.add_parser("models", help="list, fetch or verify the Vosk speech models")
    models.add_argument("action", choices=["list", "fetch", "verify"])
    models.add_argument("name", nargs="?", help="model name, model directory or downloaded zip "
                        "(default: YINLING_VOSK_MODEL or vosk-model-small-cn-0.22)")
    models.add_argument("--from", dest="source", metavar="FILE", help="fetch: install this downloaded zip")
    models.add_argument("--url", default=None, help="fetch: download from this address (a mirror)")
    models.add_argument("--dir", default=None, help="models directory (default: YINLING_MODELS_DIR or var/models)")
    models.set_defaults(func=cmd_models)

    call = sub.add_parser("call", help="call the phone hotline from this machine (a SIP softphone)")
    call.add_argument("--to", default=f"sip:hotline@127.0.0.1:{os.environ.get('YINLING_SIP_PORT', '5060')}")
    call.add_argument("--from", dest="number", default="13835410001", help="caller ID (default: r-0001's number)")
    call.add_argument("--wav", help="say this recording after the greeting")
    call.add_argument("--key", help="then press these keys (1 meals, 2 subsidies, 0 operator, 9 help, * repeat)")
    call.add_argument("--out", help="write everything heard to this WAV (8 kHz)")
    call.add_argument("--port", type=int, default=5062, help="the softphone's own SIP port")
    call.set_defaults(func=cmd_call)

    voice_cmds.add_commands(sub)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
