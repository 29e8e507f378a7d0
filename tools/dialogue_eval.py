"""Pass rates of the scripted conversations (tests/e2e/dialogues/<theme>.yml), per theme.

Starts the whole stack as the end-to-end tests do (real Rasa with bot/models/yinling.tar.gz, the action
server and the gateway) on its own free ports and its own freshly seeded SQLite database, with the day
pinned (YINLING_TODAY), runs every conversation and prints, per theme, how many passed and the turns
that failed. Exits 1 when any conversation failed, unless --no-fail.

    make dialogue-eval
    .venv/bin/python tools/dialogue_eval.py --theme corrections --theme dialect --verbose
"""
from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common.paths import MODELS  # noqa: E402
from services.facade import Services  # noqa: E402
from tests.e2e.dialogue_runner import (  # noqa: E402
    DIALOGUES,
    THEMES,
    DialogueFormatError,
    Result,
    Target,
    load_dialogues,
    run_conversation,
    scores,
)
from yinling.stack import Stack, StackConfig, StackError  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def table(results: list[Result], brief_width: int) -> str:
    rows = [("theme", "conversations", "passed", "failed", "pass rate")]
    for s in scores(results):
        rows.append((s.theme, str(s.conversations), str(s.passed), str(s.failed), f"{s.rate:.0%}"))
    total = len(results)
    passed = sum(r.passed for r in results)
    rows.append(("overall", str(total), str(passed), str(total - passed), f"{passed / total:.0%}" if total else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for n, row in enumerate(rows):
        if n == len(rows) - 1:
            lines.append("-" * (sum(widths) + 8))
        lines.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            lines.append("-" * (sum(widths) + 8))
    failing = [r for r in results if not r.passed]
    if failing:
        lines.append("")
        lines.append("failing conversations (first failing turn; +n: more failures in it):")
        for r in failing:
            first = r.failures[0].brief(brief_width) if r.failures else f"broke off: {r.error}"
            more = len(r.failures) - 1
            lines.append(f"  {r.conversation.name}: {first}" + (f" (+{more})" if more > 0 else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theme", action="append", choices=THEMES, help="only this theme (repeatable)")
    parser.add_argument("--id", action="append", help="only conversations whose id contains this (repeatable)")
    parser.add_argument("--dir", type=Path, default=DIALOGUES, help="the dialogue files (default %(default)s)")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even when conversations failed")
    parser.add_argument("--verbose", "-v", action="store_true", help="print each failing conversation in full")
    parser.add_argument("--width", type=int, default=70, help="characters of a failing answer to print")
    args = parser.parse_args(argv)

    try:
        conversations = load_dialogues(args.dir)
    except DialogueFormatError as e:
        print(f"dialogue files are malformed: {e}", file=sys.stderr)
        return 2
    if args.theme:
        conversations = [c for c in conversations if c.theme in args.theme]
    if args.id:
        conversations = [c for c in conversations if any(part in c.id for part in args.id)]
    if not conversations:
        print("no conversations selected", file=sys.stderr)
        return 2
    model = MODELS / "yinling.tar.gz"
    if not model.exists():
        print(f"no trained model at {model}: make train", file=sys.stderr)
        return 2

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    tmp = Path(tempfile.mkdtemp(prefix="yinling-dialogue-eval-"))
    url = f"sqlite:///{tmp / 'dialogues.db'}"
    services = Services(url)
    services.create_all_and_seed(today)
    config = StackConfig(
        rasa_port=free_port(), actions_port=free_port(), gateway_port=free_port(), database_url=url,
        log_dir=tmp / "logs",
        extra_env={"YINLING_TODAY": today.isoformat(), "YINLING_OUTBOX": str(tmp / "outbox.jsonl"),
                   # text only: no hotline, no speakers, no recogniser to load
                   "YINLING_SIP_PORT": "0", "YINLING_VOICE_PRELOAD": "0", "YINLING_SATELLITES": "0"},
    )
    print(f"{len(conversations)} conversations in {len({c.theme for c in conversations})} themes; "
          f"starting the stack (logs in {config.log_dir}) ...", flush=True)
    stack = Stack(config)
    try:
        started = time.monotonic()
        try:
            stack.start()
        except StackError as e:
            print(f"the stack did not start: {e}", file=sys.stderr)
            for proc in stack.processes.values():
                print(f"--- {proc.name}\n{proc.log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
            return 2
        print(f"stack up in {time.monotonic() - started:.0f} s; today is pinned to {today}", flush=True)
        target = Target.of(stack, services, today)
        results = []
        started = time.monotonic()
        for c in conversations:
            result = run_conversation(c, target)
            results.append(result)
            if args.verbose and not result.passed:
                print(result.report() + "\n", flush=True)
        elapsed = time.monotonic() - started
        died = stack.died()
        # the database is this run's own: anything still open was left by a conversation's clean-up
        left = [f"{len(h)} {what}" for h, what in (
            ([h for h in services.list_handoffs() if h.status != "closed"], "open handoffs"),
            (services.open_help_requests(), "open help requests")) if h]
    finally:
        stack.stop()
        services.close()
    print()
    print(table(results, args.width))
    print()
    passed = sum(r.passed for r in results)
    print(f"overall: {passed}/{len(results)} conversations passed ({passed / len(results):.0%}) "
          f"in {elapsed:.0f} s")
    if left:
        print("left behind by the conversations (the runner's clean-up missed them): " + ", ".join(left))
    if died:
        print("processes that died during the run: " + ", ".join(died), file=sys.stderr)
        return 1
    return 0 if args.no_fail or passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
