"""Web accounts on SQLite and PostgreSQL: sign-in, its rate limits, web sessions, reset codes, password
changes and who may act for whom. Real databases and real argon2; the test clock moves time."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from argon2 import extract_parameters
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from services import passwords
from services.accounts import ATTEMPT_WINDOW, SESSION_ABSOLUTE, SESSION_IDLE, token_digest
from services.db import make_engine
from services.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidRequest,
    NotAllowed,
    SessionInvalid,
    TooManyAttempts,
    UnknownAccount,
    UnknownOperator,
)
from services.facade import Services
from services.migrate import alembic_config
from services.models import Account, AuditEntry, Base, CallRequest, FamilyMember, LoginAttempt, WebSession
from services.seed_data import DEMO_PASSWORD
from tests.pg import require_pg, temp_schema
from tests.services.conftest import NOW, TODAY

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module", autouse=True)
def _cheap_hashing():
    """argon2id as deployed costs ~0.2 s a hash on a small machine (on purpose); these tests hash a
    hundred times, so they use the same algorithm with small parameters. Module-scoped and autouse, so
    the seed of this module's database hashes the same way."""
    previous = passwords.use_hasher(passwords.PasswordHasher(time_cost=1, memory_cost=2048, parallelism=1,
                                                             type=passwords.Type.ID))
    yield
    passwords.use_hasher(previous)


@pytest.fixture(autouse=True)
def _clock_back(clock):
    """Each test may move the clock; the next starts where the module started."""
    start = clock.now
    yield
    clock.now = start


def _name(prefix: str = "u") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def _ip() -> str:
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def _family_row(services, resident_id: str, consent: bool, relation: str = "儿子") -> str:
    fid = f"f-t{uuid.uuid4().hex[:8]}"
    with Session(services.engine) as db, db.begin():
        db.add(FamilyMember(id=fid, resident_id=resident_id, name="测试家属", relation=relation, phone=None,
                            consent=consent))
    return fid


def _family(services, *links: tuple[str, bool]):
    ids = [_family_row(services, rid, consent) for rid, consent in links]
    return services.create_account(_name("fam"), PASSWORD, "family", "测试家属", family_member_ids=ids)


def _actions(services, target: str) -> list[str]:
    with Session(services.engine) as db:
        return list(db.scalars(select(AuditEntry.action).where(AuditEntry.target == target).order_by(AuditEntry.id)))


def _row(services, account_id: int) -> Account:
    with Session(services.engine) as db:
        return db.get(Account, account_id)


# --- seed and creation --------------------------------------------------------------------------------
def test_seed_has_demo_family_and_operator_accounts(services):
    by_name = {a.username: a for a in services.accounts()}
    zhang = by_name["zhang.jianguo"]
    assert zhang.kind == zhang.role == "family" and zhang.display_name == "张建国"
    assert {(r.resident_id, r.consent) for r in zhang.residents} == {("r-0001", True), ("r-0005", True)}
    assert [r.resident_id for r in by_name["li.hongxia"].residents] == ["r-0002"]
    assert (by_name["op.li"].role, by_name["op.li"].operator_id, by_name["op.li"].residents) == ("operator", "op-01", ())
    assert (by_name["sup.wang"].role, by_name["sup.wang"].operator_id) == ("supervisor", "op-09")
    assert [a.username for a in services.accounts("operator")] == ["op.li", "sup.wang"]
    for username in ("zhang.jianguo", "li.hongxia", "op.li", "sup.wang"):
        assert services.authenticate(username, DEMO_PASSWORD, _ip()).username == username
    with Session(services.engine) as db:
        hashes = set(db.scalars(select(Account.password_hash).where(Account.is_demo.is_(True))))
    assert len(hashes) == 1 and hashes.pop().startswith("$argon2id$"), "one hash a seed run, argon2id"


def test_create_account_checks_its_input(services):
    taken = services.create_account(_name("Mixed"), PASSWORD, "family", "某人")
    assert taken.username == taken.username.lower() and taken.residents == ()
    with pytest.raises(InvalidRequest) as info:
        services.create_account(taken.username.upper(), PASSWORD, "family", "某人")
    assert info.value.reason == "username_taken"
    for bad in ("a", "has space", "中文名", "x" * 41, ".dot"):
        with pytest.raises(InvalidRequest) as info:
            services.create_account(bad, PASSWORD, "family", "某人")
        assert info.value.reason == "bad_username"
    for weak in ("short", "1234567", "x" * 129, " " * 10):
        with pytest.raises(InvalidRequest) as info:
            services.create_account(_name(), weak, "family", "某人")
        assert info.value.reason == "weak_password"
    assert services.create_account(_name(), "x" * 8, "family", "某人")
    assert services.create_account(_name(), "长" * 128, "family", "某人")
    with pytest.raises(InvalidRequest) as info:
        services.create_account(_name(), PASSWORD, "admin", "某人")
    assert info.value.reason == "bad_kind"
    with pytest.raises(InvalidRequest) as info:  # f-0001 is zhang.jianguo's
        services.create_account(_name(), PASSWORD, "family", "某人", family_member_ids=["f-0001"])
    assert info.value.reason == "family_member_linked"
    two = [_family_row(services, "r-0003", True), _family_row(services, "r-0003", True)]
    with pytest.raises(InvalidRequest) as info:
        services.create_account(_name(), PASSWORD, "family", "某人", family_member_ids=two)
    assert info.value.reason == "one_link_per_resident"
    with pytest.raises(UnknownOperator):
        services.create_account(_name(), PASSWORD, "operator", "某人", operator_id="op-77")
    with pytest.raises(InvalidRequest) as info:
        services.create_account(_name(), PASSWORD, "operator", "某人", operator_id="op-01")
    assert info.value.reason == "operator_has_account"
    made = services.create_account(_name(), PASSWORD, "family", "某人", family_member_ids=two[:1], actor="operator:op-09")
    assert [r.resident_id for r in made.residents] == ["r-0003"]
    assert _actions(services, f"account:{made.id}") == ["account.create"]


def test_passwords_are_argon2id_and_verify_safely():
    deployed = passwords.DEFAULT_HASHER  # RFC 9106's second recommendation (t=3, 64 MiB, p=4)
    assert (deployed.type, deployed.time_cost, deployed.memory_cost, deployed.parallelism) == (
        passwords.Type.ID, 3, 64 * 1024, 4)
    assert passwords.needs_rehash(deployed.hash(PASSWORD)), "a deployed-cost hash is not this module's hasher's"
    encoded = passwords.hash_password(PASSWORD)
    assert encoded.startswith("$argon2id$") and PASSWORD not in encoded
    assert passwords.verify_password(encoded, PASSWORD)
    assert not passwords.verify_password(encoded, PASSWORD + "!")
    assert not passwords.verify_password("not a hash", PASSWORD)
    assert not passwords.verify_password(encoded, None)
    assert not passwords.verify_dummy(PASSWORD)
    assert not passwords.needs_rehash(encoded)
    assert passwords.needs_rehash("plain")


# --- signing in ---------------------------------------------------------------------------------------
def test_sign_in_right_wrong_and_unknown(services):
    account = _family(services, ("r-0003", True))
    ip = _ip()
    assert services.authenticate(f"  {account.username.upper()} ", PASSWORD, ip) == account
    with pytest.raises(InvalidCredentials) as wrong:
        services.authenticate(account.username, PASSWORD + "x", ip)
    with pytest.raises(InvalidCredentials) as unknown:
        services.authenticate(_name("nobody"), PASSWORD, ip)
    assert str(wrong.value) == str(unknown.value), "the same answer: no telling which user names exist"
    for junk in ("", None, 12345):
        with pytest.raises(InvalidCredentials):
            services.authenticate(junk, junk, ip)
    with Session(services.engine) as db:
        attempts = db.scalars(select(LoginAttempt).where(LoginAttempt.ip == ip).order_by(LoginAttempt.id)).all()
    assert [a.ok for a in attempts][:3] == [True, False, False] and len(attempts) == 6
    assert _actions(services, f"account:{account.id}") == ["account.create", "auth.sign_in", "auth.sign_in_failed"]
    assert _row(services, account.id).failed_logins == 1


class CountingHasher(passwords.PasswordHasher):
    """The real argon2id hasher, counting its verifications."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.verified: list[str] = []

    def verify(self, hash, password):
        self.verified.append(hash)
        return super().verify(hash, password)


def test_unknown_user_costs_a_password_check_like_a_wrong_password(services):
    """An unknown user name is checked against a dummy hash made with the same parameters, so the answer
    costs what a wrong password costs: one argon2id verification. (Counted rather than timed: the test
    machine's load makes timings say little.)"""
    hasher = CountingHasher(time_cost=1, memory_cost=2048, parallelism=1, type=passwords.Type.ID)
    previous = passwords.use_hasher(hasher)
    try:
        account = _family(services)
        for username in (account.username, _name("nobody")):
            hasher.verified.clear()
            with pytest.raises(InvalidCredentials):
                services.authenticate(username, "wrong password", _ip())
            [checked] = hasher.verified
            assert extract_parameters(checked) == extract_parameters(hasher.hash("x" * 8))
    finally:
        passwords.use_hasher(previous)


def test_five_failures_for_a_user_name_hold_it_off_for_the_rest_of_15_minutes(services, clock):
    account = _family(services)
    start = clock.now
    for i in range(5):  # one a minute
        clock.now = start + timedelta(minutes=i)
        with pytest.raises(InvalidCredentials):
            services.authenticate(account.username, "wrong password", _ip())
    with pytest.raises(TooManyAttempts) as info:  # the right password no longer even gets checked
        services.authenticate(account.username, PASSWORD, _ip())
    assert info.value.retry_after_s == 11 * 60, "until the oldest of the five is 15 minutes old"
    assert "try again in 660 s" in str(info.value) and info.value.code == "too_many_attempts"
    row = _row(services, account.id)
    assert row.failed_logins == 5 and row.locked_until == start + ATTEMPT_WINDOW
    assert services.account(account.id).locked_until == start + ATTEMPT_WINDOW
    clock.now = start + ATTEMPT_WINDOW - timedelta(seconds=1)
    with pytest.raises(TooManyAttempts) as info:
        services.authenticate(account.username, PASSWORD, _ip())
    assert info.value.retry_after_s == 1
    clock.now = start + ATTEMPT_WINDOW
    assert services.authenticate(account.username, PASSWORD, _ip()).id == account.id
    row = _row(services, account.id)
    assert row.failed_logins == 0 and row.locked_until is None


def test_unknown_user_names_are_held_off_alike(services):
    name = _name("ghost")
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            services.authenticate(name, "whatever1", _ip())
    with pytest.raises(TooManyAttempts):
        services.authenticate(name, "whatever1", _ip())


def test_a_good_sign_in_clears_the_failures_before_it(services):
    account = _family(services)
    for _ in range(2):
        for _ in range(4):
            with pytest.raises(InvalidCredentials):
                services.authenticate(account.username, "wrong password", _ip())
        assert services.authenticate(account.username, PASSWORD, _ip()).id == account.id


def test_twenty_failures_from_one_address_hold_it_off(services, clock):
    ip = _ip()
    start = clock.now
    for i in range(20):
        clock.now = start + timedelta(seconds=10 * i)
        with pytest.raises(InvalidCredentials):
            services.authenticate(_name("spray"), "wrong password", ip)
    account = _family(services)
    with pytest.raises(TooManyAttempts) as info:
        services.authenticate(account.username, PASSWORD, ip)
    assert info.value.retry_after_s == 15 * 60 - 190
    assert services.authenticate(account.username, PASSWORD, _ip()).id == account.id, "other addresses are fine"
    clock.now = start + ATTEMPT_WINDOW + timedelta(seconds=1)
    assert services.authenticate(account.username, PASSWORD, ip).id == account.id


def test_a_disabled_account_cannot_sign_in_and_loses_its_sessions(services):
    account = _family(services, ("r-0003", True))
    token, _ = services.start_web_session(account.id, _ip(), "pytest")
    view = services.set_account_disabled(account.id, True, "operator:op-09")
    assert view.disabled
    with pytest.raises(SessionInvalid):
        services.web_session(token)
    with pytest.raises(AccountDisabled):
        services.authenticate(account.username, PASSWORD, _ip())
    with pytest.raises(InvalidCredentials):  # only the right password learns that it is disabled
        services.authenticate(account.username, "wrong password", _ip())
    with pytest.raises(AccountDisabled):
        services.start_web_session(account.id, _ip(), "pytest")
    assert not services.may_act_for(account.id, "r-0003")
    services.set_account_disabled(account.id, False, "operator:op-09")
    assert services.authenticate(account.username, PASSWORD, _ip()).id == account.id
    assert _actions(services, f"account:{account.id}") == [
        "account.create", "account.disable", "auth.sign_in_refused", "auth.sign_in_failed", "account.enable",
        "auth.sign_in"]


# --- web sessions -------------------------------------------------------------------------------------
def test_a_session_token_is_only_stored_as_its_digest(services):
    account = _family(services, ("r-0003", True))
    token, view = services.start_web_session(account.id, "192.0.2.7", "Mozilla/5.0 " + "x" * 300)
    assert view.account == services.account(account.id) and len(view.csrf_token) >= 32
    assert view.expires_at == services.now() + SESSION_IDLE
    with Session(services.engine) as db:
        row = db.get(WebSession, hashlib.sha256(token.encode()).hexdigest())
        assert row is not None and row.id == token_digest(token) and row.id != token
        assert token not in (row.csrf_token, row.user_agent) and len(row.user_agent) == 200
    again = services.web_session(token)
    assert again.csrf_token == view.csrf_token and again.account.id == account.id


def test_forged_and_malformed_tokens_are_refused(services):
    account = _family(services)
    token, _ = services.start_web_session(account.id, _ip(), None)
    for forged in (secrets.token_urlsafe(32), token_digest(token), token[:-1], token + "x", "", "x" * 10_000, None):
        with pytest.raises(SessionInvalid):
            services.web_session(forged)
    services.end_web_session(secrets.token_urlsafe(32))  # signing out an unknown token is quietly nothing
    assert services.web_session(token).account.id == account.id


def test_idle_sessions_expire_after_30_minutes_and_use_slides_it(services, clock):
    account = _family(services)
    token, _ = services.start_web_session(account.id, _ip(), "pytest")
    start = clock.now
    clock.now = start + timedelta(minutes=29)
    assert services.web_session(token).expires_at == clock.now + SESSION_IDLE
    clock.now += timedelta(minutes=29)
    assert services.web_session(token)
    clock.now += timedelta(seconds=30)  # within a minute of the last write: nothing written
    assert services.web_session(token).expires_at == start + timedelta(minutes=58) + SESSION_IDLE
    with Session(services.engine) as db:
        assert db.get(WebSession, token_digest(token)).last_seen_at == start + timedelta(minutes=58)
    clock.now = start + timedelta(minutes=58) + SESSION_IDLE
    with pytest.raises(SessionInvalid) as info:
        services.web_session(token)
    assert info.value.reason == "expired"


def test_sessions_end_12_hours_after_sign_in_however_busy(services, clock):
    account = _family(services)
    token, _ = services.start_web_session(account.id, _ip(), "pytest")
    start = clock.now
    while clock.now + timedelta(minutes=20) < start + SESSION_ABSOLUTE:
        clock.now += timedelta(minutes=20)
        view = services.web_session(token)
        assert view.expires_at <= start + SESSION_ABSOLUTE
    assert view.expires_at == start + SESSION_ABSOLUTE, "the last slide stops at the absolute limit"
    clock.now = start + SESSION_ABSOLUTE
    with pytest.raises(SessionInvalid):
        services.web_session(token)


def test_signing_out_revokes_one_session_or_all(services):
    account = _family(services)
    tokens = [services.start_web_session(account.id, _ip(), "pytest")[0] for _ in range(3)]
    services.end_web_session(tokens[0])
    services.end_web_session(tokens[0])  # twice is fine
    with pytest.raises(SessionInvalid) as info:
        services.web_session(tokens[0])
    assert info.value.reason == "revoked"
    assert services.web_session(tokens[1])
    assert services.end_all_web_sessions(account.id) == 2
    for token in tokens:
        with pytest.raises(SessionInvalid):
            services.web_session(token)
    actions = _actions(services, f"account:{account.id}")
    assert actions[-1] == "auth.sign_out_all"
    with Session(services.engine) as db:
        sign_outs = db.scalars(select(AuditEntry).where(AuditEntry.action == "auth.sign_out",
                                                        AuditEntry.actor == f"family:{account.id}")).all()
    assert len(sign_outs) == 1
    with pytest.raises(UnknownAccount):
        services.end_all_web_sessions(10 ** 9)


# --- reset codes and password changes -----------------------------------------------------------------
def test_reset_code_flow(services, clock):
    account = _family(services, ("r-0003", True))
    token, _ = services.start_web_session(account.id, _ip(), "pytest")
    code = services.issue_password_reset(account.username.upper(), "op-01")
    assert len(code) == 8 and code.isdigit()
    with pytest.raises(SessionInvalid):
        services.web_session(token)  # handing out a code signs the account out everywhere
    row = _row(services, account.id)
    assert code not in row.reset_code_hash and row.reset_expires_at == services.now() + timedelta(hours=24)
    wrong = f"{(int(code) + 1) % 10 ** 8:08d}"
    with pytest.raises(InvalidCredentials):
        services.reset_password(account.username, wrong, "a new password")
    with pytest.raises(InvalidRequest) as info:
        services.reset_password(account.username, code, "short")
    assert info.value.reason == "weak_password"
    clock.now += timedelta(hours=23)
    view = services.reset_password(account.username, f"{code[:4]} {code[4:]}", "a new password")
    assert view.id == account.id
    with pytest.raises(InvalidCredentials):
        services.reset_password(account.username, code, "another new one")  # used up
    with pytest.raises(InvalidCredentials):
        services.authenticate(account.username, PASSWORD, _ip())
    assert services.authenticate(account.username, "a new password", _ip()).id == account.id
    row = _row(services, account.id)
    assert row.reset_code_hash is None and row.password_changed_at == services.now()
    actions = _actions(services, f"account:{account.id}")
    assert {"account.reset_issued", "account.reset_failed", "account.password_reset"} <= set(actions)


def test_an_expired_reset_code_is_refused(services, clock):
    account = _family(services)
    code = services.issue_password_reset(account.username, "op-02")
    clock.now += timedelta(hours=24)
    with pytest.raises(InvalidCredentials):
        services.reset_password(account.username, code, "a new password")
    clock.now -= timedelta(hours=1)  # and gone for good, even if a clock steps back
    with pytest.raises(InvalidCredentials):
        services.reset_password(account.username, code, "a new password")
    assert services.authenticate(account.username, PASSWORD, _ip()).id == account.id


def test_guessing_reset_codes_is_rate_limited(services):
    account = _family(services)
    code = services.issue_password_reset(account.username, "op-01")
    for guess in range(5):
        with pytest.raises(InvalidCredentials):
            services.reset_password(account.username, f"{guess:08d}" if f"{guess:08d}" != code else "99999999x",
                                    "a new password")
    with pytest.raises(TooManyAttempts):
        services.reset_password(account.username, code, "a new password")
    with pytest.raises(InvalidCredentials):  # unknown user names answer like bad codes
        services.reset_password(_name(), code, "a new password")


def test_who_may_issue_reset_codes(services):
    operator_account = services.create_account(_name("op"), PASSWORD, "operator", "孙伟", operator_id="op-02")
    assert operator_account.role == "operator"
    with pytest.raises(NotAllowed):
        services.issue_password_reset(operator_account.username, "op-01")  # an operator, not a supervisor
    assert len(services.issue_password_reset(operator_account.username, "op-09")) == 8
    with pytest.raises(UnknownOperator):
        services.issue_password_reset("zhang.jianguo", "op-99")
    with pytest.raises(UnknownAccount):
        services.issue_password_reset(_name("nobody"), "op-01")


def test_change_password(services):
    account = _family(services)
    keep, _ = services.start_web_session(account.id, _ip(), "pytest")
    other, _ = services.start_web_session(account.id, _ip(), "pytest")
    with pytest.raises(InvalidCredentials):
        services.change_password(account.id, "not the password", "a brand new one")
    with pytest.raises(InvalidRequest) as info:
        services.change_password(account.id, PASSWORD, "tiny")
    assert info.value.reason == "weak_password"
    with pytest.raises(InvalidRequest):
        services.change_password(account.id, PASSWORD, PASSWORD)
    services.change_password(account.id, PASSWORD, "a brand new one", keep_token=keep)
    assert services.web_session(keep).account.id == account.id
    with pytest.raises(SessionInvalid):
        services.web_session(other)
    with pytest.raises(InvalidCredentials):
        services.authenticate(account.username, PASSWORD, _ip())
    assert services.authenticate(account.username, "a brand new one", _ip()).id == account.id
    assert _actions(services, f"account:{account.id}")[-3:] == [
        "account.password_changed", "auth.sign_in_failed", "auth.sign_in"]
    with pytest.raises(UnknownAccount):
        services.change_password(10 ** 9, PASSWORD, "a brand new one")


# --- who may act for whom -----------------------------------------------------------------------------
def test_may_act_for(services):
    account = _family(services, ("r-0006", True), ("r-0007", False))
    assert {(r.resident_id, r.consent) for r in services.account(account.id).residents} == {
        ("r-0006", True), ("r-0007", False)}
    assert services.may_act_for(account.id, "r-0006")
    assert not services.may_act_for(account.id, "r-0007"), "linked, but the resident has not consented"
    assert not services.may_act_for(account.id, "r-0008"), "not linked"
    assert not services.may_act_for(account.id, "r-9999")
    op_li = next(a for a in services.accounts("operator") if a.username == "op.li")
    assert services.may_act_for(op_li.id, "r-0008") and services.may_act_for(op_li.id, "r-0024")
    assert not services.may_act_for(op_li.id, "r-9999")
    assert not services.may_act_for(10 ** 9, "r-0001")
    with pytest.raises(UnknownAccount):
        services.account(10 ** 9)


def test_old_attempts_and_sessions_can_be_purged(services, clock):
    account = _family(services)
    services.start_web_session(account.id, _ip(), "pytest")
    with pytest.raises(InvalidCredentials):
        services.authenticate(account.username, "wrong password", _ip())
    clock.now += timedelta(days=31)
    assert services.purge_auth_records() >= 2
    assert services.purge_auth_records() == 0


# --- the migration ------------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'accounts.db'}"
        return
    require_pg()
    with temp_schema() as url:
        yield url


def test_migration_0005_upgrades_a_database_whose_family_rows_are_in_use(empty_url, clock, tmp_path):
    """0005 adds family_members.account_id in place (on SQLite a copy of the table would trip the foreign
    keys of the call requests pointing at it); its downgrade drops what it added, keeping the family rows."""
    svc = Services(empty_url, clock=clock, outbox=tmp_path / "outbox.jsonl")
    try:
        svc.create_all_and_seed(TODAY)
        svc.engine.dispose()
        command.downgrade(alembic_config(empty_url), "0004_call_records")
        engine = make_engine(empty_url)
        try:
            assert not {"accounts", "web_sessions", "login_attempts"} & set(inspect(engine).get_table_names())
            assert "account_id" not in {c["name"] for c in inspect(engine).get_columns("family_members")}
            with engine.begin() as conn:
                conn.execute(CallRequest.__table__.insert().values(
                    resident_id="r-0001", family_member_id="f-0001", status="queued", created_at=NOW,
                    idempotency_key="call-before-0005"))
        finally:
            engine.dispose()
        svc.create_all_and_seed(TODAY)  # upgrade to head again, and the accounts come back
        engine = make_engine(empty_url)
        try:
            with engine.connect() as conn:
                assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                        Base.metadata) == []
                if engine.dialect.name == "sqlite":
                    assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
                assert conn.execute(text("SELECT family_member_id FROM call_requests")).scalar_one() == "f-0001"
        finally:
            engine.dispose()
        zhang = next(a for a in svc.accounts("family") if a.username == "zhang.jianguo")
        assert svc.may_act_for(zhang.id, "r-0001")
    finally:
        svc.close()
