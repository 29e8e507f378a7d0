"""Conversations written as data, run through the real gateway, Rasa, action server and database.

One YAML file per theme in tests/e2e/dialogues/ (the file name is the theme). Each file is a list of
conversations:

    - id: day-corrected-at-portions          # lower-case letters, digits, - and _; unique in its theme
      sender: r-0001                         # the resident (the Rasa conversation id); r-9999: unknown
      channel: speaker                       # optional: text (default), speaker, phone, web
      as_family: zhang.jianguo               # optional: typed by this family account for `sender`
                                             #   (POST /api/residents/{sender}/chat, channel web)
      postgres: true                         # optional: also run on PostgreSQL (default SQLite only)
      note: why this conversation exists     # optional, free text
      setup:                                 # optional: state put in the database before the first turn
        orders: [{date_offset: 2, meal: lunch, portions: 1, mode: dine_in}]
        tickets: [{service: haircut, date_offset: 2}]
        help_request: 我头晕得厉害           # or {text: ..., acknowledged: true}
      turns:
        - say: 明儿个晌午给俺订个饭
          expect_all: [几份]                 # every string appears in the joined answer
          expect_any: [食堂, 送到家]         # at least one appears
          expect_none: [没听清]              # none appears
          handed_off: false                  # the reply's handed_off flag
          help_request: false                # the reply has (true) / has no (false) help_request_id
      after:                                 # optional: the database after the last turn
        orders: [{date_offset: 1, meal: lunch, portions: 2, mode: dine_in}]
        no_orders: true
        cancelled: 1
        tickets: 1
        open_help: false
        handoff: false

Expected strings may hold `{date+N}` (the day N days from today, as 十一月二十四号 or 11月24号 or
11月24日) and `{weekday+N}` (its weekday: 星期二, 礼拜二 or 周二); any spelling counts. Every turn is
also checked for an answer at all and for no "Traceback".

`after` is about what this conversation did: `orders` are the booked upcoming orders that were not
booked when it started (exactly those, in any order; each item names the fields it cares about),
`no_orders` says there are none, `cancelled` counts orders booked at the start (the setup's) that are
no longer booked, `tickets` counts open home-visit tickets filed during the conversation, `open_help`
whether a help request raised during it is still open, `handoff` whether the conversation is with a
person at the end.

Conversations share one database, so each starts clean and leaves nothing behind: an open handoff
of the sender is closed and the Rasa tracker restarted before the first turn; after the checks, what
the conversation booked, filed or raised (and what its setup made) is cancelled or resolved, any
handoff closed and the tracker restarted again.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Optional

import httpx
import yaml

from common.words import CHANNELS
from services.errors import ServiceError
from services.seed_data import ACCOUNTS, DEMO_PASSWORD, FAMILY, SERVICE_TYPES
from zhtext.dates import spoken_date

DIALOGUES = Path(__file__).resolve().parent / "dialogues"
THEMES = ("corrections", "digressions", "dead_ends", "multi_slot", "my_orders", "symptoms", "loneliness",
          "dialect", "unknown_resident", "out_of_domain", "family_voice", "date_time")
MEALS = ("breakfast", "lunch", "dinner")
MODES = ("dine_in", "delivery")
SERVICES = tuple(code for code, _ in SERVICE_TYPES)
ALWAYS_NONE = ("Traceback",)
SUPERVISOR = "op-09"  # closes handoffs and resolves help requests the conversations leave open
ACTOR = "test:dialogues"

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SENDER_RE = re.compile(r"^r-\d{4}$")
PLACEHOLDER_RE = re.compile(r"\{(date|weekday)([+-]\d+)\}")

CONVERSATION_KEYS = {"id", "sender", "channel", "as_family", "postgres", "note", "setup", "turns", "after"}
TURN_KEYS = {"say", "expect_all", "expect_any", "expect_none", "handed_off", "help_request", "note"}
SETUP_KEYS = {"orders", "tickets", "help_request"}
AFTER_KEYS = {"orders", "no_orders", "cancelled", "tickets", "open_help", "handoff"}
ORDER_KEYS = {"date_offset", "meal", "portions", "mode", "canteen"}
TICKET_KEYS = {"service", "date_offset"}

# family web account -> residents it may act for (from the seed's account and family rows)
_FAMILY_ROWS = {row[0]: row[1] for row in FAMILY}
FAMILY_ACCOUNTS = {name: {_FAMILY_ROWS[f] for f in rows} for name, _, kind, _, rows in ACCOUNTS if kind == "family"}


class DialogueFormatError(ValueError):
    """A dialogue file does not have the shape this runner reads; the message says where and what."""


# --- the data ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    say: str
    expect_all: tuple[str, ...] = ()
    expect_any: tuple[str, ...] = ()
    expect_none: tuple[str, ...] = ()
    handed_off: Optional[bool] = None
    help_request: Optional[bool] = None


@dataclass(frozen=True)
class Conversation:
    theme: str
    id: str
    sender: str
    turns: tuple[Turn, ...]
    channel: str = "text"
    as_family: Optional[str] = None
    postgres: bool = False
    note: str = ""
    setup: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def name(self) -> str:
        return f"{self.theme}/{self.id}"


def _where(source: str, index: int, conv: Any) -> str:
    cid = conv.get("id") if isinstance(conv, dict) else None
    return f"{source}: conversation {index + 1}" + (f" ({cid})" if cid else "")


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(s, str) and s.strip() for s in value):
        raise DialogueFormatError(f"{where} must be a non-empty list of non-empty strings, got {value!r}")
    for s in value:
        rest = PLACEHOLDER_RE.sub("", s)
        if "{" in rest or "}" in rest:
            raise DialogueFormatError(f"{where}: {s!r} has a brace that is not {{date+N}} or {{weekday+N}}")
    return tuple(value)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise DialogueFormatError(f"{where} must be true or false, got {value!r}")
    return value


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DialogueFormatError(f"{where} must be a whole number from {low} to {high}, got {value!r}")
    return value


def _keys(value: Any, allowed: set[str], where: str, required: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        raise DialogueFormatError(f"{where} must be a mapping, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise DialogueFormatError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
    missing = [k for k in required if k not in value]
    if missing:
        raise DialogueFormatError(f"{where}: missing {', '.join(missing)}")
    return value


def _order(value: Any, where: str, full: bool) -> dict:
    order = _keys(value, ORDER_KEYS, where, ("date_offset", "meal") if full else ())
    if not order:
        raise DialogueFormatError(f"{where}: an order names at least one of {', '.join(sorted(ORDER_KEYS))}")
    if "date_offset" in order:
        _int(order["date_offset"], f"{where}.date_offset", 0, 14)
    if "meal" in order and order["meal"] not in MEALS:
        raise DialogueFormatError(f"{where}.meal must be one of {', '.join(MEALS)}, got {order['meal']!r}")
    if "portions" in order:
        _int(order["portions"], f"{where}.portions", 1, 5)
    if "mode" in order and order["mode"] not in MODES:
        raise DialogueFormatError(f"{where}.mode must be one of {', '.join(MODES)}, got {order['mode']!r}")
    if "canteen" in order and not isinstance(order["canteen"], str):
        raise DialogueFormatError(f"{where}.canteen must be a canteen id such as ct-zhaowang")
    return dict(order)


def _turn(value: Any, where: str) -> Turn:
    if isinstance(value, str):
        raise DialogueFormatError(f"{where} must be a mapping with `say:`, got the bare string {value!r}")
    t = _keys(value, TURN_KEYS, where, ("say",))
    if not isinstance(t["say"], str) or not t["say"].strip():
        raise DialogueFormatError(f"{where}.say must be non-empty text")
    return Turn(
        say=t["say"],
        expect_all=_strings(t["expect_all"], f"{where}.expect_all") if "expect_all" in t else (),
        expect_any=_strings(t["expect_any"], f"{where}.expect_any") if "expect_any" in t else (),
        expect_none=_strings(t["expect_none"], f"{where}.expect_none") if "expect_none" in t else (),
        handed_off=_bool(t["handed_off"], f"{where}.handed_off") if "handed_off" in t else None,
        help_request=_bool(t["help_request"], f"{where}.help_request") if "help_request" in t else None,
    )


def _setup(value: Any, where: str) -> dict:
    s = dict(_keys(value, SETUP_KEYS, where))
    if "orders" in s:
        if not isinstance(s["orders"], list) or not s["orders"]:
            raise DialogueFormatError(f"{where}.orders must be a non-empty list of orders")
        s["orders"] = [_order(o, f"{where}.orders[{i}]", full=True) for i, o in enumerate(s["orders"])]
    if "tickets" in s:
        if not isinstance(s["tickets"], list) or not s["tickets"]:
            raise DialogueFormatError(f"{where}.tickets must be a non-empty list of tickets")
        tickets = []
        for i, t in enumerate(s["tickets"]):
            t = _keys(t, TICKET_KEYS, f"{where}.tickets[{i}]", ("service",))
            if t["service"] not in SERVICES:
                raise DialogueFormatError(f"{where}.tickets[{i}].service must be one of {', '.join(SERVICES)}")
            if "date_offset" in t:
                _int(t["date_offset"], f"{where}.tickets[{i}].date_offset", 0, 30)
            tickets.append(dict(t))
        s["tickets"] = tickets
    if "help_request" in s:
        h = s["help_request"]
        if isinstance(h, str):
            h = {"text": h}
        h = _keys(h, {"text", "acknowledged"}, f"{where}.help_request", ("text",))
        if not isinstance(h["text"], str) or not h["text"].strip():
            raise DialogueFormatError(f"{where}.help_request.text must be non-empty text")
        if "acknowledged" in h:
            _bool(h["acknowledged"], f"{where}.help_request.acknowledged")
        s["help_request"] = dict(h)
    return s


def _after(value: Any, where: str) -> dict:
    a = dict(_keys(value, AFTER_KEYS, where))
    if "orders" in a:
        if not isinstance(a["orders"], list):
            raise DialogueFormatError(f"{where}.orders must be a list of orders (use no_orders: true for none)")
        a["orders"] = [_order(o, f"{where}.orders[{i}]", full=False) for i, o in enumerate(a["orders"])]
    if "no_orders" in a:
        if a["no_orders"] is not True:
            raise DialogueFormatError(f"{where}.no_orders can only be true")
        if "orders" in a:
            raise DialogueFormatError(f"{where}: orders and no_orders together")
    if "cancelled" in a:
        _int(a["cancelled"], f"{where}.cancelled", 0, 20)
    if "tickets" in a:
        _int(a["tickets"], f"{where}.tickets", 0, 20)
    for key in ("open_help", "handoff"):
        if key in a:
            _bool(a[key], f"{where}.{key}")
    return a


def parse_conversation(theme: str, value: Any, where: str, source: str = "") -> Conversation:
    c = _keys(value, CONVERSATION_KEYS, where, ("id", "sender", "turns"))
    if not isinstance(c["id"], str) or not ID_RE.match(c["id"]):
        raise DialogueFormatError(f"{where}.id must be lower-case letters, digits, - or _, got {c['id']!r}")
    if not isinstance(c["sender"], str) or not SENDER_RE.match(c["sender"]):
        raise DialogueFormatError(f"{where}.sender must look like r-0001, got {c['sender']!r}")
    channel = c.get("channel", "text")
    if channel not in CHANNELS:
        raise DialogueFormatError(f"{where}.channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
    family = c.get("as_family")
    if family is not None:
        if family not in FAMILY_ACCOUNTS:
            raise DialogueFormatError(f"{where}.as_family must be one of {', '.join(sorted(FAMILY_ACCOUNTS))}")
        if c["sender"] not in FAMILY_ACCOUNTS[family]:
            raise DialogueFormatError(f"{where}: {family} may act for {', '.join(sorted(FAMILY_ACCOUNTS[family]))} "
                                      f"only, not {c['sender']}")
        if "channel" in c and channel != "web":
            raise DialogueFormatError(f"{where}: a family member chats on the web channel only")
        channel = "web"
    if not isinstance(c["turns"], list) or not c["turns"]:
        raise DialogueFormatError(f"{where}.turns must be a non-empty list")
    note = c.get("note", "")
    if not isinstance(note, str):
        raise DialogueFormatError(f"{where}.note must be text")
    return Conversation(
        theme=theme, id=c["id"], sender=c["sender"], channel=channel, as_family=family,
        postgres=_bool(c["postgres"], f"{where}.postgres") if "postgres" in c else False, note=note,
        turns=tuple(_turn(t, f"{where}.turns[{i}]") for i, t in enumerate(c["turns"])),
        setup=_setup(c["setup"], f"{where}.setup") if "setup" in c else {},
        after=_after(c["after"], f"{where}.after") if "after" in c else {},
        source=source,
    )


def load_theme(path: Path) -> list[Conversation]:
    theme = path.stem
    if theme not in THEMES:
        raise DialogueFormatError(f"{path.name}: unknown theme {theme!r} (themes: {', '.join(THEMES)})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise DialogueFormatError(f"{path.name}: not valid YAML: {e}") from None
    if not isinstance(data, list) or not data:
        raise DialogueFormatError(f"{path.name}: must be a non-empty list of conversations")
    conversations, seen = [], set()
    for i, value in enumerate(data):
        where = _where(path.name, i, value)
        conv = parse_conversation(theme, value, where, path.name)
        if conv.id in seen:
            raise DialogueFormatError(f"{where}: id {conv.id!r} is used twice in {path.name}")
        seen.add(conv.id)
        conversations.append(conv)
    return conversations


def load_dialogues(directory: Path = DIALOGUES) -> list[Conversation]:
    """Every conversation of every theme file, in theme order; raises DialogueFormatError on a bad file."""
    files = sorted(directory.glob("*.yml"), key=lambda p: (THEMES.index(p.stem) if p.stem in THEMES else -1, p.name))
    if not files:
        raise DialogueFormatError(f"no dialogue files (*.yml) in {directory}")
    return [c for path in files for c in load_theme(path)]


# --- matching answers ------------------------------------------------------------------------------------

_WEEKDAYS = ("一", "二", "三", "四", "五", "六", "天")


def _expansions(kind: str, day: date, today: date) -> list[str]:
    if kind == "date":
        spoken = spoken_date(day, today).split("，")
        md = next(p for p in spoken if p.endswith("号"))
        return [md, f"{day.month}月{day.day}号", f"{day.month}月{day.day}日"]
    w = _WEEKDAYS[day.weekday()]
    words = [f"星期{w}", f"礼拜{w}", f"周{w}"]
    if w == "天":
        words += ["星期日", "礼拜日", "周日"]
    return words


def alternatives(expected: str, today: date) -> list[str]:
    """The spellings that satisfy one expected string, its {date+N} / {weekday+N} filled in."""
    options = [expected]
    for m in PLACEHOLDER_RE.finditer(expected):
        day = today + timedelta(days=int(m.group(2)))
        options = [o.replace(m.group(0), e, 1) for o in options for e in _expansions(m.group(1), day, today)]
    return options


def _found(expected: str, answer: str, today: date) -> bool:
    return any(o in answer for o in alternatives(expected, today))


def check_turn(turn: Turn, answer: str, reply: dict, today: date) -> list[str]:
    """What is wrong with one answer (empty when the turn passed)."""
    problems = []
    if not answer.strip():
        problems.append("no answer at all")
    missing = [e for e in turn.expect_all if not _found(e, answer, today)]
    if missing:
        problems.append(f"missing {missing}")
    if turn.expect_any and not any(_found(e, answer, today) for e in turn.expect_any):
        problems.append(f"none of {list(turn.expect_any)}")
    unwanted = [e for e in (*turn.expect_none, *ALWAYS_NONE) if _found(e, answer, today)]
    if unwanted:
        problems.append(f"has {unwanted}")
    if turn.handed_off is not None and bool(reply.get("handed_off")) != turn.handed_off:
        problems.append(f"handed_off {bool(reply.get('handed_off'))}, expected {turn.handed_off}")
    if turn.help_request is not None and (reply.get("help_request_id") is not None) != turn.help_request:
        problems.append(f"help_request_id {reply.get('help_request_id')!r}, expected "
                        f"{'one' if turn.help_request else 'none'}")
    return problems


# --- running -----------------------------------------------------------------------------------------------


@dataclass
class Target:
    """A running stack: its gateway and Rasa, the services over its database, and its pinned day."""

    gateway_url: str
    rasa_url: str
    services: Any  # services.facade.Services
    today: date
    headers: dict[str, str]  # the service key, for /api/chat
    timeout_s: float = 60.0
    _tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, stack: Any, services: Any, today: date) -> "Target":
        from common.service_key import auth_header

        return cls(stack.config.gateway_url, stack.config.rasa_url, services, today, auth_header())

    def family_token(self, http: httpx.Client, username: str) -> str:
        if username not in self._tokens:
            r = http.post(f"{self.gateway_url}/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
            r.raise_for_status()
            self._tokens[username] = r.json()["token"]
        return self._tokens[username]


@dataclass(frozen=True)
class Failure:
    turn: Optional[int]  # 1-based; None: the database check after the last turn
    said: str
    answer: str
    problems: tuple[str, ...]

    def brief(self, width: int = 60) -> str:
        where = f"turn {self.turn}" if self.turn else "after"
        answer = self.answer if len(self.answer) <= width else self.answer[:width] + "…"
        said = f" 「{self.said}」" if self.said else ""
        return f"{where}{said}: {'; '.join(self.problems)}" + (f" — answer 「{answer}」" if self.answer else "")


@dataclass
class Result:
    conversation: Conversation
    failures: list[Failure] = field(default_factory=list)
    transcript: list[tuple[str, str, dict]] = field(default_factory=list)  # (said, answer, flags)
    error: Optional[str] = None  # the run broke off (HTTP error, database error)

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None

    def report(self) -> str:
        c = self.conversation
        lines = [f"{c.name} ({c.source}, sender {c.sender}{', as ' + c.as_family if c.as_family else ''}, "
                 f"channel {c.channel})"]
        bad = {f.turn for f in self.failures}
        for i, (said, answer, flags) in enumerate(self.transcript, 1):
            mark = "✗" if i in bad else " "
            extra = ", ".join(k for k, v in flags.items() if v)
            lines.append(f" {mark} {i}. 说：{said}")
            lines.append(f"      答：{answer}" + (f"  [{extra}]" if extra else ""))
        lines += ["failures:"] + [f"  - {f.brief(200)}" for f in self.failures]
        if self.error:
            lines.append(f"  - broke off: {self.error}")
        return "\n".join(lines)


def _quiet(fn, *args, default=None):
    try:
        return fn(*args)
    except ServiceError:
        return default


class _Run:
    def __init__(self, conv: Conversation, target: Target, http: httpx.Client) -> None:
        self.conv, self.target, self.http = conv, target, http
        self.s = target.services
        self.sender = conv.sender
        self.start_orders: set[int] = set()
        self.start_help: set[int] = set()
        self.start_tickets: set[int] = set()
        self.made_orders: list[int] = []
        self.made_help: list[int] = []
        self.made_tickets: list[int] = []
        self.unknown: Optional[bool] = None  # not in the services database

    # state ---------------------------------------------------------------------------------------
    def booked(self) -> list[Any]:
        orders = _quiet(self.s.upcoming_orders, self.sender, self.target.today, default=[])
        return [o for o in orders if o.status == "booked"]

    def open_help(self) -> list[Any]:
        """The sender's open help requests (an unknown caller's are stored without a resident)."""
        if self.unknown is None:
            self.unknown = _quiet(self.s.get_resident, self.sender) is None
        mine = None if self.unknown else self.sender
        return [h for h in self.s.open_help_requests() if h.resident_id == mine]

    def open_tickets(self) -> list[Any]:
        return _quiet(self.s.open_tickets, self.sender, default=[])

    def restart_tracker(self) -> None:
        self.http.post(f"{self.target.rasa_url}/conversations/{self.sender}/tracker/events",
                       json={"event": "restart"}).raise_for_status()

    def close_handoffs(self) -> None:
        for h in self.s.list_handoffs():
            if h.conversation_id == self.sender and h.status != "closed" and h.id is not None:
                self.s.close_handoff(h.id, SUPERVISOR)

    def prepare(self) -> None:
        self.close_handoffs()
        self.restart_tracker()
        today, key = self.target.today, uuid.uuid4().hex
        setup = self.conv.setup
        for i, o in enumerate(setup.get("orders", ())):
            order = self.s.book_meal(self.sender, today + timedelta(days=o["date_offset"]), o["meal"],
                                     o.get("portions", 1), o.get("canteen"), o.get("mode", "dine_in"),
                                     idempotency_key=f"dlg-{key}-o{i}", actor=ACTOR, today=today)
            self.made_orders.append(order.id)
        for i, t in enumerate(setup.get("tickets", ())):
            day = today + timedelta(days=t["date_offset"]) if "date_offset" in t else None
            ticket = self.s.create_ticket(self.sender, t["service"], day, "", f"dlg-{key}-t{i}", ACTOR)
            self.made_tickets.append(ticket.id)
        if "help_request" in setup:
            h = setup["help_request"]
            view = self.s.raise_help(self.sender, h["text"], "text", f"dlg-{key}-h", conversation_id=self.sender)
            self.made_help.append(view.id)
            if h.get("acknowledged"):
                self.s.acknowledge_help(view.id, f"operator:{SUPERVISOR}")
        self.start_orders = {o.id for o in self.booked()}
        self.start_help = {h.id for h in self.open_help()}
        self.start_tickets = {t.id for t in self.open_tickets()}

    # talking -------------------------------------------------------------------------------------
    def send(self, text: str) -> dict:
        message_id = uuid.uuid4().hex
        if self.conv.as_family:
            token = self.target.family_token(self.http, self.conv.as_family)
            r = self.http.post(f"{self.target.gateway_url}/api/residents/{self.sender}/chat",
                               json={"message": text, "message_id": message_id},
                               headers={"Authorization": f"Bearer {token}"})
        else:
            r = self.http.post(f"{self.target.gateway_url}/api/chat",
                               json={"sender": self.sender, "message": text, "channel": self.conv.channel,
                                     "message_id": message_id},
                               headers=self.target.headers)
        if r.status_code != 200:
            raise RuntimeError(f"HTTP {r.status_code} for 「{text}」: {r.text[:300]}")
        return r.json()

    # after ---------------------------------------------------------------------------------------
    def check_after(self) -> list[str]:
        after, today, problems = self.conv.after, self.target.today, []
        booked = self.booked()
        new = [o for o in booked if o.id not in self.start_orders]
        self.made_orders += [o.id for o in new]

        def label(o: Any) -> str:
            return f"+{(o.date - today).days} {o.meal} x{o.portions} {o.mode}"

        if "orders" in after:
            left = list(new)
            unmatched = []
            for want in after["orders"]:
                hit = next((o for o in left if _order_matches(o, want, today)), None)
                if hit is None:
                    unmatched.append(want)
                else:
                    left.remove(hit)
            if unmatched or left:
                problems.append(f"orders booked {[label(o) for o in new] or 'none'}, expected {after['orders'] or 'none'}")
        if after.get("no_orders") and new:
            problems.append(f"orders booked {[label(o) for o in new]}, expected none")
        if "cancelled" in after:
            gone = len(self.start_orders - {o.id for o in booked})
            if gone != after["cancelled"]:
                problems.append(f"{gone} of the orders there at the start cancelled, expected {after['cancelled']}")
        tickets = [t for t in self.open_tickets() if t.id not in self.start_tickets]
        self.made_tickets += [t.id for t in tickets]
        if "tickets" in after and len(tickets) != after["tickets"]:
            problems.append(f"{len(tickets)} new open tickets {[t.service_code for t in tickets]}, "
                            f"expected {after['tickets']}")
        helps = [h for h in self.open_help() if h.id not in self.start_help]
        self.made_help += [h.id for h in helps]
        if "open_help" in after and bool(helps) != after["open_help"]:
            problems.append(f"open help request raised: {bool(helps)}, expected {after['open_help']}")
        if "handoff" in after:
            is_open = self.s.open_handoff(self.sender) is not None
            if is_open != after["handoff"]:
                problems.append(f"open handoff: {is_open}, expected {after['handoff']}")
        return problems

    def clean_up(self) -> None:
        """Leave nothing behind for the next conversation (or the next test file)."""
        try:
            for o in self.booked():
                if o.id not in self.start_orders:
                    self.made_orders.append(o.id)
            for t in self.open_tickets():
                if t.id not in self.start_tickets:
                    self.made_tickets.append(t.id)
            for h in self.open_help():
                if h.id not in self.start_help:
                    self.made_help.append(h.id)
        except ServiceError:
            pass
        still = {o.id for o in self.booked()}
        for oid in dict.fromkeys(self.made_orders):
            if oid in still:
                _quiet(self.s.cancel_order, self.sender, oid, ACTOR, self.target.today)
        open_tickets = {t.id for t in self.open_tickets()}
        for tid in dict.fromkeys(self.made_tickets):
            if tid in open_tickets:
                _quiet(self.s.update_ticket, tid, "cancelled", "dialogue test clean-up", ACTOR)
        open_help = {h.id for h in self.s.open_help_requests()}
        for hid in dict.fromkeys(self.made_help):
            if hid is not None and hid in open_help:
                _quiet(self.s.resolve_help, hid, f"operator:{SUPERVISOR}", "dialogue test clean-up")
        self.close_handoffs()
        self.restart_tracker()


def _order_matches(order: Any, want: dict, today: date) -> bool:
    return all([
        "date_offset" not in want or (order.date - today).days == want["date_offset"],
        "meal" not in want or order.meal == want["meal"],
        "portions" not in want or order.portions == want["portions"],
        "mode" not in want or order.mode == want["mode"],
        "canteen" not in want or order.canteen_id == want["canteen"],
    ])


def run_conversation(conv: Conversation, target: Target) -> Result:
    """Say every turn, check every answer, then the database; always clean up afterwards."""
    result = Result(conv)
    with httpx.Client(timeout=target.timeout_s) as http:
        run = _Run(conv, target, http)
        try:
            run.prepare()
            for i, turn in enumerate(conv.turns, 1):
                reply = run.send(turn.say)
                answer = " ".join(m["text"] for m in reply.get("messages", ()) if m.get("text"))
                flags = {"handed_off": bool(reply.get("handed_off")),
                         "help_request": reply.get("help_request_id") is not None}
                result.transcript.append((turn.say, answer, flags))
                problems = check_turn(turn, answer, reply, target.today)
                if problems:
                    result.failures.append(Failure(i, turn.say, answer, tuple(problems)))
            problems = run.check_after()
            if problems:
                result.failures.append(Failure(None, "", "", tuple(problems)))
        except (httpx.HTTPError, RuntimeError, ServiceError) as e:
            result.error = f"{type(e).__name__}: {e}"
        finally:
            try:
                run.clean_up()
            except (httpx.HTTPError, ServiceError) as e:
                result.error = result.error or f"clean-up failed: {type(e).__name__}: {e}"
    return result


# --- summing up --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeScore:
    theme: str
    conversations: int
    passed: int

    @property
    def failed(self) -> int:
        return self.conversations - self.passed

    @property
    def rate(self) -> float:
        return self.passed / self.conversations if self.conversations else 0.0


def scores(results: list[Result]) -> list[ThemeScore]:
    themes = [t for t in THEMES if any(r.conversation.theme == t for r in results)]
    return [ThemeScore(t, sum(r.conversation.theme == t for r in results),
                       sum(r.passed for r in results if r.conversation.theme == t)) for t in themes]
