"""Production mode (`YINLING_ENV=production`): what must not reach real residents, checked at start.

The gateway (gateway.app.create_app), the action server (actions.server) and `yinling run` call
`enforce` before they listen. In production any finding stops them with one message that lists every
problem and its fix (ProductionRefused); in development (the default) nothing changes but one log line
saying what would block production. `yinling check-production` prints the same findings.

Checked: the ID-number salt is not the development default; the service key file exists and only its
owner can read it (mode 0600); no demo account still signs in with the demo password (checked with the
password hasher, not by name); nothing listens on a public address unless YINLING_ALLOW_PUBLIC=1 says so
(then it is said in the log at WARNING).

It lives in services, the lowest layer that knows the salt, the accounts and the key file, so that the
gateway, the action server and the CLI can all import it (tests/test_layout.py).
"""
from __future__ import annotations

import ipaddress
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence
from urllib.parse import urlsplit

from sqlalchemy import Engine, inspect, or_, select
from sqlalchemy.orm import Session

from common.errors import YinlingError
from common.service_key import ENV as SERVICE_KEY_ENV
from common.service_key import key_file
from services import config
from services.models import Account
from services.passwords import verify_password
from services.seed_data import ACCOUNTS as DEMO_ACCOUNTS
from services.seed_data import DEMO_PASSWORD

ENV = "YINLING_ENV"
ALLOW_PUBLIC = "YINLING_ALLOW_PUBLIC"
DEFAULT_HOST = "127.0.0.1"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One thing that keeps a deployment out of production: what is wrong and how to fix it."""

    code: str  # dev_id_salt, service_key_missing, service_key_mode, demo_account, public_listener
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.problem}\n    fix: {self.fix}"


@dataclass(frozen=True)
class Listener:
    name: str  # gateway, sip, rasa, actions
    host: str

    @property
    def label(self) -> str:
        return _LABELS.get(self.name, self.name)

    @property
    def public(self) -> bool:
        return not is_loopback(self.host)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    allowed_public: list[Listener] = field(default_factory=list)  # public on purpose (YINLING_ALLOW_PUBLIC=1)

    def message(self) -> str:
        lines = [f"Yinling refuses to start in production mode ({ENV}=production): "
                 f"{len(self.findings)} problem{'s' if len(self.findings) != 1 else ''}"]
        lines += [f"  {i}. {finding}" for i, finding in enumerate(self.findings, 1)]
        lines.append(f"(`yinling check-production` lists them again; unset {ENV} for development.)")
        return "\n".join(lines)


class ProductionRefused(YinlingError):
    """Raised in production mode when any check fails; the message lists every problem and its fix."""

    code = "production_refused"

    def __init__(self, report: Report) -> None:
        super().__init__(report.message())
        self.report = report
        self.findings = report.findings


# -- the mode ------------------------------------------------------------------------------------
def is_production(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get(ENV, "").strip().lower() == "production"


def public_allowed(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get(ALLOW_PUBLIC, "").strip().lower() in ("1", "true", "yes")


# -- the checks, one function each ---------------------------------------------------------------
def check_id_salt(salt: str) -> list[Finding]:
    if salt and salt != config.DEV_ID_SALT:
        return []
    return [Finding(
        "dev_id_salt",
        "YINLING_ID_SALT is not set: resident ID numbers are hashed with the public development salt, "
        "so their hashes can be reversed by trying every ID number",
        "set YINLING_ID_SALT to a long random secret kept off the machine's backups, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`, before the first resident is "
        "added (hashes made with another salt no longer match)")]


def check_service_key(path: Path, env: Mapping[str, str] | None = None) -> list[Finding]:
    env = os.environ if env is None else env
    if env.get(SERVICE_KEY_ENV, "").strip():
        return []  # the key comes from the environment; the file is not read
    make = (f"(umask 077 && python -c 'import secrets; print(secrets.token_urlsafe(32))' > {path}), "
            f"owned by the user the services run as")
    try:
        st = path.stat()
    except FileNotFoundError:
        return [Finding("service_key_missing",
                        f"the service key file {path} is missing (production does not make one on first start)",
                        f"create it: {make}; or set {SERVICE_KEY_ENV}")]
    if not stat.S_ISREG(st.st_mode):
        return [Finding("service_key_missing", f"the service key {path} is not a regular file",
                        f"replace it with a file: {make}")]
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        return [Finding("service_key_mode",
                        f"the service key file {path} has mode {mode:04o}: group or others can read it, and "
                        "whoever reads it can talk as any resident",
                        f"chmod 600 {path}")]
    return []


def demo_usernames() -> list[str]:
    return [row[0] for row in DEMO_ACCOUNTS]


def check_demo_accounts(engine: Engine) -> list[Finding]:
    """Every enabled demo account (by the seed's names or its is_demo mark) whose password is still the
    demo password, verified with the password hasher."""
    if not inspect(engine).has_table(Account.__tablename__):
        return []  # not migrated yet: no accounts at all
    with Session(engine) as session:
        rows = session.execute(
            select(Account.username, Account.password_hash)
            .where(Account.disabled.is_(False))
            .where(or_(Account.username.in_(demo_usernames()), Account.is_demo.is_(True)))
            .order_by(Account.username)).all()
    still = [username for username, encoded in rows if verify_password(encoded, DEMO_PASSWORD)]
    if not still:
        return []
    return [Finding(
        "demo_account",
        f"demo accounts still sign in with the published demo password: {', '.join(still)}",
        "give each a new password (the operator console's password reset) or disable it; a production "
        "database should be made with `yinling db upgrade`, never `yinling db seed`")]


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "" (every interface) or a name, which may resolve anywhere


def check_listeners(listeners: Sequence[Listener], allow_public: bool) -> Report:
    """Findings for listeners on a public address, or, when they are allowed, the list to warn about."""
    public = [listener for listener in listeners if listener.public]
    if allow_public:
        return Report(allowed_public=public)
    return Report(findings=[Finding(
        "public_listener",
        f"the {listener.label} listens on {listener.host or 'every interface'}, a public address",
        f"listen on 127.0.0.1 ({_HOW_TO_SET.get(listener.name, 'its host setting')}) with a proxy in front; "
        f"or, if it is meant, set {ALLOW_PUBLIC}=1") for listener in public])


_LABELS = {"gateway": "gateway", "sip": "SIP hotline", "rasa": "Rasa server", "actions": "action server"}
_HOW_TO_SET = {
    "gateway": "uvicorn --host, or YINLING_GATEWAY_HOST",
    "sip": "YINLING_SIP_HOST; YINLING_SIP_PORT=0 turns the hotline off",
    "rasa": "rasa run -i, as YINLING_RASA_URL points",
    "actions": "actions.server --host or YINLING_ACTIONS_HOST, as YINLING_ACTIONS_URL points",
}


# -- where the listeners are, seen from each process ---------------------------------------------
def sip_listener(env: Mapping[str, str]) -> list[Listener]:
    if env.get("YINLING_SIP_PORT", "").strip() == "0":
        return []  # the hotline is off
    return [Listener("sip", env.get("YINLING_SIP_HOST", DEFAULT_HOST))]


def _url_host(url: str | None) -> str:
    return (urlsplit(url).hostname or DEFAULT_HOST) if url else DEFAULT_HOST


def uvicorn_host(argv: Sequence[str]) -> str | None:
    """The --host uvicorn was started with, when this process is uvicorn (its default is 127.0.0.1)."""
    if not argv or "uvicorn" not in " ".join(argv[:3]):
        return None
    for i, arg in enumerate(argv):
        if arg == "--host" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--host="):
            return arg.split("=", 1)[1]
    return DEFAULT_HOST


def gateway_listeners(env: Mapping[str, str], argv: Sequence[str], rasa_url: str,
                      actions_url: str) -> list[Listener]:
    """The gateway process: itself and the hotline it carries; Rasa and the action server where it
    reaches them (they listen where it connects)."""
    host = env.get("YINLING_GATEWAY_HOST") or uvicorn_host(argv) or DEFAULT_HOST
    return [Listener("gateway", host), *sip_listener(env), Listener("rasa", _url_host(rasa_url)),
            Listener("actions", _url_host(actions_url))]


# -- all of it -----------------------------------------------------------------------------------
def check(engine: Engine | None, listeners: Sequence[Listener], *, env: Mapping[str, str] | None = None,
          key_path: Path | None = None, salt: str | None = None, accounts: bool | None = None) -> Report:
    """Every check; `engine` None skips the accounts (no database to look at). `accounts`: whether to verify
    the demo accounts' passwords (argon2, about 0.5 s each at production cost); by default only in
    production mode, so a development start does not pay for a warning nobody acts on."""
    env = os.environ if env is None else env
    report = check_listeners(listeners, public_allowed(env))
    findings = check_id_salt(config.id_salt() if salt is None else salt)
    findings += check_service_key(key_path or key_file(), env)
    if engine is not None and (is_production(env) if accounts is None else accounts):
        findings += check_demo_accounts(engine)
    report.findings[:0] = findings
    return report


def enforce(report: Report, *, env: Mapping[str, str] | None = None, who: str = "yinling",
            log: logging.Logger | None = None) -> Report:
    """Production: raise ProductionRefused on any finding. Development: one log line of what would block.
    Public listeners allowed on purpose are said at WARNING in either mode."""
    log = log or logger
    for listener in report.allowed_public:
        log.warning("%s: the %s listens on public address %s (%s=1 says it is meant)", who, listener.label,
                    listener.host or "every interface", ALLOW_PUBLIC)
    if is_production(env):
        if report.findings:
            raise ProductionRefused(report)
        log.info("%s: production mode, every production check passed", who)
    elif report.findings:
        log.warning("%s: development mode; production would refuse: %s (`yinling check-production` says how "
                    "to fix each)", who, "; ".join(f.code for f in report.findings))
    else:
        log.info("%s: development mode; nothing would block production", who)
    return report
