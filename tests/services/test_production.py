"""Production mode's checks (services.production), each as a function over a temp var dir and a
seeded services database: every finding, and that its fix makes it go away."""
from __future__ import annotations

import logging
import os

import pytest
from sqlalchemy import update

from common.errors import YinlingError
from services import config, production
from services.models import Account
from services.passwords import hash_password
from services.production import Finding, Listener, ProductionRefused

PROD = {"YINLING_ENV": "production"}
GOOD_SALT = "a-real-secret-salt-0123456789"


def good_key(tmp_path):
    path = tmp_path / "service.key"
    path.write_text("k" * 43)
    path.chmod(0o600)
    return path


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


# -- the ID salt ---------------------------------------------------------------------------------
def test_the_development_salt_is_a_finding_and_a_real_one_is_not(monkeypatch):
    [finding] = production.check_id_salt(config.DEV_ID_SALT)
    assert finding.code == "dev_id_salt" and "YINLING_ID_SALT" in finding.fix
    assert codes(production.check_id_salt("")) == ["dev_id_salt"]
    monkeypatch.delenv("YINLING_ID_SALT", raising=False)
    assert codes(production.check_id_salt(config.id_salt())) == ["dev_id_salt"]  # what an unset env gives
    monkeypatch.setenv("YINLING_ID_SALT", GOOD_SALT)
    assert production.check_id_salt(config.id_salt()) == []


# -- the service key file ------------------------------------------------------------------------
def test_a_missing_key_file_is_a_finding_and_making_it_0600_fixes_it(tmp_path):
    path = tmp_path / "service.key"
    [finding] = production.check_service_key(path, env={})
    assert finding.code == "service_key_missing" and str(path) in finding.problem
    assert "umask 077" in finding.fix
    good_key(tmp_path)
    assert production.check_service_key(path, env={}) == []


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o666])
def test_a_key_file_others_can_read_is_a_finding_and_chmod_600_fixes_it(tmp_path, mode):
    path = good_key(tmp_path)
    path.chmod(mode)
    [finding] = production.check_service_key(path, env={})
    assert finding.code == "service_key_mode" and f"{mode:04o}" in finding.problem
    assert finding.fix == f"chmod 600 {path}"
    os.chmod(path, 0o600)
    assert production.check_service_key(path, env={}) == []


def test_a_key_from_the_environment_needs_no_file(tmp_path):
    assert production.check_service_key(tmp_path / "service.key", env={"YINLING_SERVICE_KEY": "x" * 40}) == []


# -- demo accounts -------------------------------------------------------------------------------
def test_the_seeded_demo_accounts_are_found_by_their_password(services):
    [finding] = production.check_demo_accounts(services.engine)
    assert finding.code == "demo_account"
    for name in ("zhang.jianguo", "op.li", "sup.wang"):
        assert name in finding.problem


def test_a_new_password_or_disabling_fixes_a_demo_account(services):
    engine = services.engine
    new_hash = hash_password("a-new-long-password")
    with engine.begin() as c:
        c.execute(update(Account).where(Account.username == "zhang.jianguo").values(password_hash=new_hash))
        c.execute(update(Account).where(Account.username == "op.li").values(disabled=True))
    [finding] = production.check_demo_accounts(engine)
    assert "zhang.jianguo" not in finding.problem and "op.li" not in finding.problem
    assert "sup.wang" in finding.problem
    with engine.begin() as c:  # an account not named like the seed's, but still on the demo password
        c.execute(update(Account).where(Account.username == "sup.wang").values(username="sup.renamed"))
    assert "sup.renamed" in production.check_demo_accounts(engine)[0].problem
    with engine.begin() as c:
        c.execute(update(Account).values(password_hash=new_hash))
    assert production.check_demo_accounts(engine) == []


def test_an_empty_database_has_no_demo_accounts(tmp_path):
    from services.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert production.check_demo_accounts(engine) == []
    finally:
        engine.dispose()


# -- listeners -----------------------------------------------------------------------------------
@pytest.mark.parametrize("host, public", [
    ("127.0.0.1", False), ("127.0.0.53", False), ("::1", False), ("[::1]", False), ("localhost", False),
    ("0.0.0.0", True), ("::", True), ("", True), ("192.168.1.20", True), ("yinling.example.org", True),
])
def test_what_counts_as_public(host, public):
    assert Listener("gateway", host).public is public


def test_a_public_listener_is_a_finding_unless_allowed():
    listeners = [Listener("gateway", "0.0.0.0"), Listener("sip", "192.168.1.20"), Listener("rasa", "127.0.0.1")]
    report = production.check_listeners(listeners, allow_public=False)
    assert codes(report.findings) == ["public_listener", "public_listener"]
    assert "SIP hotline listens on 192.168.1.20" in report.findings[1].problem
    assert "YINLING_SIP_HOST" in report.findings[1].fix and "YINLING_ALLOW_PUBLIC=1" in report.findings[1].fix
    allowed = production.check_listeners(listeners, allow_public=True)
    assert allowed.findings == [] and allowed.allowed_public == listeners[:2]


def test_allowed_public_listeners_are_said_at_warning_in_production(tmp_path, caplog):
    report = production.check(None, [Listener("gateway", "0.0.0.0")], key_path=good_key(tmp_path), salt=GOOD_SALT,
                              env={**PROD, "YINLING_ALLOW_PUBLIC": "1"})
    with caplog.at_level(logging.INFO, logger="services.production"):
        production.enforce(report, env=PROD)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["yinling: the gateway listens on public address 0.0.0.0 (YINLING_ALLOW_PUBLIC=1 says it "
                        "is meant)"]


def test_where_the_gateway_process_listens():
    env = {"YINLING_SIP_HOST": "10.0.0.5"}
    argv = ["/x/uvicorn", "yinling.serve:create_app", "--factory", "--host", "0.0.0.0"]
    found = production.gateway_listeners(env, argv, "http://127.0.0.1:5005", "http://192.168.1.9:5055")
    assert [(lf.name, lf.host) for lf in found] == [
        ("gateway", "0.0.0.0"), ("sip", "10.0.0.5"), ("rasa", "127.0.0.1"), ("actions", "192.168.1.9")]
    off = production.gateway_listeners({"YINLING_SIP_PORT": "0"}, ["pytest"], "http://127.0.0.1:5005",
                                       "http://127.0.0.1:5055")
    assert [(lf.name, lf.host) for lf in off] == [("gateway", "127.0.0.1"), ("rasa", "127.0.0.1"),
                                                  ("actions", "127.0.0.1")]
    assert production.uvicorn_host(["uvicorn", "app"]) == "127.0.0.1"
    assert production.uvicorn_host(["uvicorn", "app", "--host=::"]) == "::"


# -- all of it, and the two modes ----------------------------------------------------------------
def test_production_refuses_with_every_problem_and_its_fix(services, tmp_path):
    with services.engine.begin() as c:  # the module's database had its demo passwords changed above
        c.execute(update(Account).where(Account.username == "li.hongxia")
                  .values(password_hash=hash_password("yinling-demo-2026")))
    report = production.check(services.engine, [Listener("gateway", "0.0.0.0")], env=PROD,
                              key_path=tmp_path / "service.key", salt=config.DEV_ID_SALT)
    assert codes(report.findings) == ["dev_id_salt", "service_key_missing", "demo_account", "public_listener"]
    with pytest.raises(ProductionRefused) as caught:
        production.enforce(report, env=PROD)
    assert isinstance(caught.value, YinlingError) and caught.value.code == "production_refused"
    message = str(caught.value)
    assert message.startswith("Yinling refuses to start in production mode (YINLING_ENV=production): 4 problems")
    for finding in report.findings:
        assert finding.problem in message and finding.fix in message


def test_production_starts_when_everything_is_fixed(tmp_path, caplog):
    report = production.check(None, [Listener("gateway", "127.0.0.1")], env=PROD, key_path=good_key(tmp_path),
                              salt=GOOD_SALT)
    assert report.findings == []
    with caplog.at_level(logging.INFO, logger="services.production"):
        production.enforce(report, env=PROD)
    assert [r.getMessage() for r in caplog.records] == ["yinling: production mode, every production check passed"]


def test_development_only_says_what_would_block(tmp_path, caplog):
    report = production.check(None, [Listener("gateway", "0.0.0.0")], env={}, key_path=tmp_path / "service.key",
                              salt=config.DEV_ID_SALT)
    with caplog.at_level(logging.INFO, logger="services.production"):
        assert production.enforce(report, env={}) is report  # no raise
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == ("yinling: development mode; production would refuse: dev_id_salt; "
                                   "service_key_missing; public_listener (`yinling check-production` says how to "
                                   "fix each)")


@pytest.mark.parametrize("value, production_mode", [("production", True), (" Production ", True), ("", False),
                                                     ("development", False), ("prod", False)])
def test_which_values_mean_production(value, production_mode):
    assert production.is_production({"YINLING_ENV": value}) is production_mode
