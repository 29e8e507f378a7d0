"""The three entry points refuse in production mode on the demo database, fast and before spawning
anything, and say why (services.production). Rasa is never started here."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date

import pytest

from common.paths import ROOT
from services.facade import Services


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A var dir and a seeded (demo) SQLite database, with the environment of production mode."""
    var = tmp_path_factory.mktemp("var")
    url = f"sqlite:///{var / 'yinling.db'}"
    services = Services(url, outbox=var / "outbox.jsonl")
    services.create_all_and_seed(date(2025, 11, 5))
    services.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YINLING_")}
    env.update(PYTHONPATH=str(ROOT), YINLING_ENV="production", YINLING_VAR_DIR=str(var),
               YINLING_DATABASE_URL=url, YINLING_SIP_HOST="0.0.0.0")
    return var, env


def _run(argv, env, timeout=60):
    started = time.monotonic()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - started


def _says_why(text: str, var) -> None:
    assert "Yinling refuses to start in production mode (YINLING_ENV=production): 4 problems" in text
    assert "YINLING_ID_SALT is not set" in text
    assert f"the service key file {var / 'service.key'} is missing" in text
    assert "zhang.jianguo" in text and "op.li" in text and "sup.wang" in text
    assert "the SIP hotline listens on 0.0.0.0" in text and "YINLING_ALLOW_PUBLIC=1" in text


def test_the_gateway_app_factory_refuses(demo):
    var, env = demo
    done, _ = _run([sys.executable, "-c", "from yinling.serve import create_app; create_app()"], env)
    assert done.returncode != 0
    assert "ProductionRefused" in done.stderr
    _says_why(done.stderr, var)
    assert not (var / "service.key").exists(), "refused before the service key file was made"


def test_yinling_run_refuses_before_spawning_anything(demo):
    var, env = demo
    done, took = _run([sys.executable, "-m", "yinling", "run", "--rasa-port", "1", "--actions-port", "1",
                       "--gateway-port", "1"], env)
    assert done.returncode == 2, done.stdout + done.stderr
    _says_why(done.stderr, var)
    assert "Starting Rasa" not in done.stdout
    assert not (var / "log").exists(), "no process was started (they log under var/log)"
    assert took < 30


def test_the_action_server_refuses(demo):
    var, env = demo
    done, _ = _run([sys.executable, "-m", "actions.server", "--host", "0.0.0.0", "--port", "1"], env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the action server listens on 0.0.0.0" in done.stderr
    assert "Yinling refuses to start in production mode" in done.stderr


def test_check_production_lists_the_findings_and_exits_1(demo):
    var, env = demo
    done, _ = _run([sys.executable, "-m", "yinling", "check-production"], env)
    assert done.returncode == 1
    _says_why(done.stdout, var)
    fixed = {**env, "YINLING_ID_SALT": "x" * 32, "YINLING_SERVICE_KEY": "y" * 40, "YINLING_SIP_PORT": "0",
             "YINLING_DATABASE_URL": f"sqlite:///{var / 'empty.db'}"}
    done, _ = _run([sys.executable, "-m", "yinling", "check-production"], fixed)
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("ok: nothing blocks production mode")
