"""Web accounts: family members and operators signing in to the family page and the operator console.

Passwords are argon2id hashes (services.passwords). Session tokens and reset codes are handed out once
and only their SHA-256 is stored. Sign-ins are rate limited per user name and per address from the
recorded attempts, the same way for known and unknown user names, so the answers do not tell which
user names exist. Every change is audited.

Use-cases that must keep a record of a failure (a wrong password counts towards the limit) return the
error instead of raising it, so the facade can commit the record first and then raise.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Iterable, Optional, Union

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from common.words import Actor
from services.audit import audit
from services.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidRequest,
    NotAllowed,
    ServiceError,
    SessionInvalid,
    TooManyAttempts,
    UnknownAccount,
    UnknownOperator,
)
from services.models import ACCOUNT_KINDS, Account, FamilyMember, LoginAttempt, Operator, Resident, WebSession
from services.passwords import check_policy, hash_password, needs_rehash, verify_dummy, verify_password
from services.types import AccountView, LinkedResident, WebSessionView

log = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_IP = 20
SESSION_IDLE = timedelta(minutes=30)
SESSION_ABSOLUTE = timedelta(hours=12)
SESSION_TOUCH_EVERY = timedelta(seconds=60)  # slide the idle expiry at most this often (one write)
RESET_CODE_VALID = timedelta(hours=24)
MAX_TOKEN_LENGTH = 256

Outcome = Union[AccountView, ServiceError]


# --- small helpers ------------------------------------------------------------------------------------
def clean_username(username: object) -> str:
    """Lower-case, NFKC (full-width letters typed on a phone become ASCII), trimmed; at most 40 chars."""
    if not isinstance(username, str):
        return ""
    return unicodedata.normalize("NFKC", username).strip().lower()[:40]


def _clean_ip(ip: object) -> Optional[str]:
    return str(ip)[:45] if ip else None


def token_digest(token: str) -> str:
    """What web_sessions.id holds for a session token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _code_digest(account_id: int, code: str) -> str:
    # Bound to the account, so one code's digest says nothing about another account's.
    return hashlib.sha256(f"reset:{account_id}:{code}".encode()).hexdigest()


def actor_for(account: Union[Account, AccountView]) -> str:
    """How the audit log and conversation turns name an account: family:<id> or operator:<operator id>."""
    return str(Actor.operator(account.operator_id) if account.kind == "operator" else Actor.family(account.id))


def _role(account: Account) -> str:
    if account.kind == "operator":
        return account.operator.role if account.operator is not None else "operator"
    return "family"


def account_view(session: Session, account: Account) -> AccountView:
    residents: tuple[LinkedResident, ...] = ()
    if account.kind == "family":
        rows = session.execute(
            select(FamilyMember, Resident.name)
            .join(Resident, Resident.id == FamilyMember.resident_id)
            .where(FamilyMember.account_id == account.id)
            .order_by(FamilyMember.resident_id)
        ).all()
        residents = tuple(LinkedResident(resident_id=m.resident_id, name=name, relation=m.relation,
                                         consent=bool(m.consent), family_member_id=m.id) for m, name in rows)
    return AccountView(id=account.id, username=account.username, display_name=account.display_name,
                       kind=account.kind, role=_role(account), operator_id=account.operator_id,
                       residents=residents, disabled=bool(account.disabled), locked_until=account.locked_until)


def load_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id) if isinstance(account_id, int) else None
    if account is None:
        raise UnknownAccount(account_id)
    return account


def _by_username(session: Session, username: str) -> Optional[Account]:
    return session.scalars(select(Account).where(Account.username == username)).one_or_none()


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def _retry_after(session: Session, username: str, ip: Optional[str], now: datetime) -> Optional[int]:
    """Seconds until another attempt is allowed, or None when it is allowed now.

    Per user name: 5 failures in 15 minutes since its last success; per address: 20 failures in 15
    minutes, whichever user names. Refused attempts are not recorded, so hammering on does not
    extend the wait (nor could a stranger keep someone locked out for good).
    """
    since = now - ATTEMPT_WINDOW
    waits = []
    last_ok = session.scalar(select(func.max(LoginAttempt.at))
                             .where(LoginAttempt.username == username, LoginAttempt.ok.is_(True)))
    floor = max(since, last_ok) if last_ok is not None else since
    failures = session.scalars(
        select(LoginAttempt.at)
        .where(LoginAttempt.username == username, LoginAttempt.ok.is_(False), LoginAttempt.at > floor)
        .order_by(LoginAttempt.at.desc()).limit(MAX_FAILURES_PER_USERNAME)
    ).all()
    if len(failures) >= MAX_FAILURES_PER_USERNAME:
        waits.append(failures[-1] + ATTEMPT_WINDOW - now)
    if ip:
        failures = session.scalars(
            select(LoginAttempt.at)
            .where(LoginAttempt.ip == ip, LoginAttempt.ok.is_(False), LoginAttempt.at > since)
            .order_by(LoginAttempt.at.desc()).limit(MAX_FAILURES_PER_IP)
        ).all()
        if len(failures) >= MAX_FAILURES_PER_IP:
            waits.append(failures[-1] + ATTEMPT_WINDOW - now)
    return _seconds(max(waits)) if waits else None


def _record_failure(session: Session, account: Optional[Account], username: str, ip: Optional[str],
                    now: datetime) -> None:
    session.add(LoginAttempt(username=username, ip=ip, at=now, ok=False))
    if account is not None:
        account.failed_logins = (account.failed_logins or 0) + 1
        session.flush()
        wait = _retry_after(session, username, None, now)
        if wait is not None:
            account.locked_until = now + timedelta(seconds=wait)


def _record_success(session: Session, account: Account, ip: Optional[str], now: datetime) -> None:
    session.add(LoginAttempt(username=account.username, ip=ip, at=now, ok=True))
    account.failed_logins = 0
    account.locked_until = None


def _revoke_sessions(session: Session, account_id: int, now: datetime, keep: Optional[str] = None) -> int:
    query = (update(WebSession)
             .where(WebSession.account_id == account_id, WebSession.revoked_at.is_(None), WebSession.expires_at > now)
             .values(revoked_at=now))
    if keep is not None:
        query = query.where(WebSession.id != keep)
    return session.execute(query.execution_options(synchronize_session=False)).rowcount or 0


# --- creating accounts --------------------------------------------------------------------------------
def validate_new_account(session: Session, username: str, kind: str, display_name: str,
                         family_member_ids: Iterable[str], operator_id: Optional[str]
                         ) -> tuple[str, str, list[FamilyMember]]:
    """(user name, display name, family rows to link) for a new account, or InvalidRequest / UnknownOperator."""
    name = clean_username(username)
    if not USERNAME_RE.match(name) or name != unicodedata.normalize("NFKC", username).strip().lower():
        raise InvalidRequest("bad_username", "2-40 of a-z 0-9 . _ -, starting with a letter or digit")
    display = (display_name or "").strip() if isinstance(display_name, str) else ""
    if not display or len(display) > 40:
        raise InvalidRequest("bad_display_name", "1-40 characters")
    if kind not in ACCOUNT_KINDS:
        raise InvalidRequest("bad_kind", str(kind))
    if _by_username(session, name) is not None:
        raise InvalidRequest("username_taken", name)
    ids = list(dict.fromkeys(family_member_ids or ()))
    members: list[FamilyMember] = []
    if kind == "operator":
        if ids:
            raise InvalidRequest("operator_with_family_links")
        if not operator_id:
            raise InvalidRequest("operator_id_required")
        if session.get(Operator, operator_id) is None:
            raise UnknownOperator(operator_id)
        if session.scalars(select(Account.id).where(Account.operator_id == operator_id)).first() is not None:
            raise InvalidRequest("operator_has_account", operator_id)
        return name, display, members
    if operator_id:
        raise InvalidRequest("family_with_operator_id")
    residents: set[str] = set()
    for fid in ids:
        member = session.get(FamilyMember, fid)
        if member is None:
            raise InvalidRequest("unknown_family_member", str(fid))
        if member.account_id is not None:
            raise InvalidRequest("family_member_linked", str(fid))
        if member.resident_id in residents:
            raise InvalidRequest("one_link_per_resident", member.resident_id)
        residents.add(member.resident_id)
        members.append(member)
    return name, display, members


def insert_account(session: Session, username: str, display_name: str, kind: str, password_hash: str,
                   members: list[FamilyMember], operator_id: Optional[str], *, now: datetime,
                   is_demo: bool = False) -> Account:
    account = Account(username=username, display_name=display_name, kind=kind,
                      operator_id=operator_id if kind == "operator" else None, password_hash=password_hash,
                      disabled=False, failed_logins=0, created_at=now, password_changed_at=now, is_demo=is_demo)
    session.add(account)
    session.flush()
    for member in members:
        member.account_id = account.id
    session.flush()
    return account


def create_account(session: Session, username: str, password: str, kind: str, display_name: str, *,
                   family_member_ids: Iterable[str] = (), operator_id: Optional[str] = None,
                   actor: str = "system", now: datetime) -> AccountView:
    check_policy(password)
    name, display, members = validate_new_account(session, username, kind, display_name, family_member_ids,
                                                  operator_id)
    account = insert_account(session, name, display, kind, hash_password(password), members, operator_id, now=now)
    audit(session, actor, "account.create", f"account:{account.id}",
          {"username": name, "kind": kind, "operator_id": account.operator_id,
           "family_members": [m.id for m in members]}, now=now)
    return account_view(session, account)


# --- signing in and out -------------------------------------------------------------------------------
def authenticate(session: Session, username: str, password: str, ip: Optional[str], *, now: datetime) -> Outcome:
    """The account, or (returned, not raised, so the attempt is kept) TooManyAttempts / InvalidCredentials /
    AccountDisabled. Unknown user and wrong password cost the same argon2 verification and read the same."""
    name = clean_username(username)
    ip = _clean_ip(ip)
    wait = _retry_after(session, name, ip, now)
    if wait is not None:
        log.warning("sign-in for %r from %s refused for %d s: too many failures", name, ip, wait)
        return TooManyAttempts(wait)
    account = _by_username(session, name) if name else None
    if account is None:
        verify_dummy(password)
        good = False
    else:
        good = verify_password(account.password_hash, password)
    if not good:
        _record_failure(session, account, name, ip, now)
        audit(session, f"web:{ip or '-'}", "auth.sign_in_failed",
              f"account:{account.id}" if account is not None else f"username:{name}",
              {"ip": ip, "reason": "wrong_password" if account is not None else "unknown_username"}, now=now)
        return InvalidCredentials()
    if account.disabled:
        session.add(LoginAttempt(username=name, ip=ip, at=now, ok=False))
        audit(session, actor_for(account), "auth.sign_in_refused", f"account:{account.id}",
              {"ip": ip, "reason": "disabled"}, now=now)
        return AccountDisabled(name)
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    _record_success(session, account, ip, now)
    audit(session, actor_for(account), "auth.sign_in", f"account:{account.id}", {"ip": ip}, now=now)
    return account_view(session, account)


def _session_view(session: Session, row: WebSession) -> WebSessionView:
    return WebSessionView(account=account_view(session, row.account), csrf_token=row.csrf_token,
                          expires_at=row.expires_at)


def start_web_session(session: Session, account_id: int, ip: Optional[str], user_agent: Optional[str], *,
                      now: datetime) -> tuple[str, WebSessionView]:
    account = load_account(session, account_id)
    if account.disabled:
        raise AccountDisabled(account.username)
    token = secrets.token_urlsafe(32)
    row = WebSession(id=token_digest(token), account_id=account.id, csrf_token=secrets.token_urlsafe(32),
                     created_at=now, last_seen_at=now, expires_at=now + min(SESSION_IDLE, SESSION_ABSOLUTE),
                     ip=_clean_ip(ip), user_agent=str(user_agent)[:200] if user_agent else None)
    session.add(row)
    session.flush()
    audit(session, actor_for(account), "auth.session_start", f"session:{row.id[:12]}",
          {"ip": row.ip, "user_agent": (row.user_agent or "")[:80]}, now=now)
    return token, _session_view(session, row)


def _find_session(session: Session, token: object) -> Optional[WebSession]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return session.get(WebSession, token_digest(token))


def web_session(session: Session, token: str, *, now: datetime) -> WebSessionView:
    """The live session for a token, its idle expiry slid forward; SessionInvalid otherwise."""
    row = _find_session(session, token)
    if row is None:
        raise SessionInvalid("unknown")
    if row.revoked_at is not None:
        raise SessionInvalid("revoked")
    absolute = row.created_at + SESSION_ABSOLUTE
    if now >= absolute or now >= row.expires_at:
        raise SessionInvalid("expired")
    if row.account.disabled:
        raise SessionInvalid("account disabled")
    if now - row.last_seen_at >= SESSION_TOUCH_EVERY:
        row.last_seen_at = now
        row.expires_at = min(now + SESSION_IDLE, absolute)
    return _session_view(session, row)


def end_web_session(session: Session, token: str, *, now: datetime) -> None:
    """Sign out: idempotent, and quiet about tokens it does not know."""
    row = _find_session(session, token)
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = now
    audit(session, actor_for(row.account), "auth.sign_out", f"session:{row.id[:12]}", {}, now=now)


def end_all_web_sessions(session: Session, account_id: int, *, now: datetime, actor: Optional[str] = None) -> int:
    account = load_account(session, account_id)
    count = _revoke_sessions(session, account.id, now)
    audit(session, actor or actor_for(account), "auth.sign_out_all", f"account:{account.id}",
          {"sessions": count}, now=now)
    return count


# --- passwords ----------------------------------------------------------------------------------------
def issue_password_reset(session: Session, username: str, operator_id: str, *, now: datetime) -> str:
    """A one-time 8-digit code for the account, valid 24 h (only its digest is kept); signs the account
    out everywhere. Operators may reset family accounts; operator accounts need a supervisor."""
    operator = session.get(Operator, operator_id) if operator_id else None
    if operator is None:
        raise UnknownOperator(str(operator_id))
    name = clean_username(username)
    account = _by_username(session, name) if name else None
    if account is None:
        raise UnknownAccount(name or username)
    if account.kind == "operator" and operator.role != "supervisor":
        raise NotAllowed("only a supervisor may reset an operator's password")
    code = f"{secrets.randbelow(10 ** 8):08d}"
    account.reset_code_hash = _code_digest(account.id, code)
    account.reset_expires_at = now + RESET_CODE_VALID
    revoked = _revoke_sessions(session, account.id, now)
    audit(session, f"operator:{operator.id}", "account.reset_issued", f"account:{account.id}",
          {"username": account.username, "expires_at": account.reset_expires_at, "sessions_revoked": revoked},
          now=now)
    return code


def reset_password(session: Session, username: str, code: str, new_password: str, *, now: datetime) -> Outcome:
    """A new password with an operator's reset code; a bad, used or expired code is InvalidCredentials
    (returned, so the attempt counts towards the user name's limit, as a wrong password does)."""
    check_policy(new_password)
    name = clean_username(username)
    wait = _retry_after(session, name, None, now)
    if wait is not None:
        return TooManyAttempts(wait)
    account = _by_username(session, name) if name else None
    digits = re.sub(r"[\s-]", "", code) if isinstance(code, str) else ""
    good = (account is not None and account.reset_code_hash is not None and account.reset_expires_at is not None
            and now < account.reset_expires_at and len(digits) <= 16
            and hmac.compare_digest(_code_digest(account.id, digits), account.reset_code_hash))
    if not good:
        _record_failure(session, account, name, None, now)
        if account is not None and account.reset_expires_at is not None and now >= account.reset_expires_at:
            account.reset_code_hash = account.reset_expires_at = None  # an expired code is gone for good
        audit(session, "web:-", "account.reset_failed",
              f"account:{account.id}" if account is not None else f"username:{name}", {}, now=now)
        return InvalidCredentials("invalid or expired reset code")
    account.password_hash = hash_password(new_password)
    account.password_changed_at = now
    account.reset_code_hash = account.reset_expires_at = None
    _record_success(session, account, None, now)
    revoked = _revoke_sessions(session, account.id, now)
    audit(session, actor_for(account), "account.password_reset", f"account:{account.id}",
          {"sessions_revoked": revoked}, now=now)
    return account_view(session, account)


def change_password(session: Session, account_id: int, old_password: str, new_password: str, *, now: datetime,
                    keep_token: Optional[str] = None) -> Optional[ServiceError]:
    """None when changed; else the error (returned: a wrong old password counts like a failed sign-in).
    Signs the account out everywhere except the session of `keep_token`."""
    check_policy(new_password)
    account = load_account(session, account_id)
    wait = _retry_after(session, account.username, None, now)
    if wait is not None:
        return TooManyAttempts(wait)
    if not verify_password(account.password_hash, old_password):
        _record_failure(session, account, account.username, None, now)
        audit(session, actor_for(account), "account.password_change_failed", f"account:{account.id}", {}, now=now)
        return InvalidCredentials("wrong password")
    if new_password == old_password:
        raise InvalidRequest("weak_password", "the same as the old one")
    account.password_hash = hash_password(new_password)
    account.password_changed_at = now
    account.reset_code_hash = account.reset_expires_at = None
    row = _find_session(session, keep_token) if keep_token else None
    revoked = _revoke_sessions(session, account.id, now, keep=row.id if row is not None else None)
    audit(session, actor_for(account), "account.password_changed", f"account:{account.id}",
          {"sessions_revoked": revoked}, now=now)
    return None


def set_account_disabled(session: Session, account_id: int, disabled: bool, actor: str, *,
                         now: datetime) -> AccountView:
    account = load_account(session, account_id)
    if bool(account.disabled) != bool(disabled):
        account.disabled = bool(disabled)
        revoked = _revoke_sessions(session, account.id, now) if disabled else 0
        audit(session, actor, "account.disable" if disabled else "account.enable", f"account:{account.id}",
              {"sessions_revoked": revoked}, now=now)
    return account_view(session, account)


# --- reading ------------------------------------------------------------------------------------------
def get_account(session: Session, account_id: int) -> AccountView:
    return account_view(session, load_account(session, account_id))


def list_accounts(session: Session, kind: Optional[str] = None) -> list[AccountView]:
    query = select(Account).order_by(Account.username)
    if kind is not None:
        if kind not in ACCOUNT_KINDS:
            raise InvalidRequest("bad_kind", str(kind))
        query = query.where(Account.kind == kind)
    return [account_view(session, a) for a in session.scalars(query)]


def may_act_for(session: Session, account_id: int, resident_id: str) -> bool:
    """Operators: any resident on file. Family: only residents whose family_members row is linked to this
    account and carries the resident's consent. A disabled or unknown account: nobody."""
    account = session.get(Account, account_id) if isinstance(account_id, int) else None
    if account is None or account.disabled or not isinstance(resident_id, str):
        return False
    if account.kind == "operator":
        return session.get(Resident, resident_id) is not None
    return session.scalars(
        select(FamilyMember.id).where(FamilyMember.account_id == account.id, FamilyMember.resident_id == resident_id,
                                      FamilyMember.consent.is_(True))
    ).first() is not None


def purge_auth_records(session: Session, *, now: datetime, keep: timedelta = timedelta(days=30)) -> int:
    """Drop sign-in attempts and ended sessions older than `keep` (the audit log keeps the story)."""
    cutoff = now - keep
    attempts = session.execute(delete(LoginAttempt).where(LoginAttempt.at < cutoff)
                               .execution_options(synchronize_session=False)).rowcount or 0
    sessions = session.execute(
        delete(WebSession).where(or_(WebSession.expires_at < cutoff, WebSession.revoked_at < cutoff))
        .execution_options(synchronize_session=False)).rowcount or 0
    return attempts + sessions
