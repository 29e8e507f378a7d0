"""`pip install .` into a fresh virtual environment gives a working `yinling` and every package of the
layout, with its data (the pages, the migrations): the installation, not the checkout, is what runs.

The environment is really built (with its dependencies, from the package index or pip's cache) and
used from outside the checkout, with no PYTHONPATH, so nothing of the repository can stand in for a
file the package forgot.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from tests.test_layout import PACKAGES

ROOT = Path(__file__).resolve().parent.parent
DEV_ONLY = {"pytest", "pytest-asyncio", "ruff", "playwright", "schemathesis"}


def _name(requirement: str) -> str:
    return re.split(r"[=<>\[ ]", requirement, maxsplit=1)[0].lower()


def test_the_package_pins_what_the_app_environment_pins():
    pinned = [line.strip() for line in (ROOT / "requirements" / "app.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(declared) == sorted(r for r in pinned if _name(r) not in DEV_ONLY)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    here = tmp_path_factory.mktemp("fresh")
    # a copy of what git tracks (as it is in the working tree), so pip's build/ and egg-info stay out
    # of the checkout and nothing untracked slips into the package
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    source = here / "source"
    for rel in filter(None, tracked.decode().split("\0")):
        if (ROOT / rel).is_file():
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, source / rel)
    venv = here / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    result = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(source)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


def _outside(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_yinling_help_runs_from_the_installation(installed, tmp_path):
    result = _outside(installed, str(installed / "bin" / "yinling"), "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "run" in result.stdout and "models" in result.stdout


def test_every_package_imports_from_the_installation_with_its_data(installed, tmp_path):
    # rasa_ext and components run inside Rasa's own environment: here their packages must be installed
    # and importable as packages; their modules import Rasa, which this environment does not have
    script = f"""
import importlib, importlib.resources as res, pathlib, sys
site = pathlib.Path(sys.prefix)
for name in {sorted(PACKAGES)!r}:
    module = importlib.import_module(name)
    assert site in pathlib.Path(module.__file__).parents, (name, module.__file__)
for name in ("common.words", "assistant.turn", "gateway.app", "phone.line", "voice.service", "services.facade",
             "yinling.serve", "actions.server"):
    importlib.import_module(name)
assert (res.files("gateway") / "static" / "console.html").is_file()
assert (res.files("services") / "alembic.ini").is_file()
assert any((res.files("services") / "migrations" / "versions").iterdir())
print("ok")
"""
    result = _outside(installed, str(installed / "bin" / "python"), "-c", script, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr
