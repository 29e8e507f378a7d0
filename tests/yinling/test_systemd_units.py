"""The production units (deploy/systemd) start what `yinling run` starts: the same programs with the same
arguments in the same directories and the same environment (read from yinling.stack.Stack for the
default ports, the checkout taken as /opt/yinling), restart for ever with a growing pause, and pass
`systemd-analyze verify` where systemd is installed."""
from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from common.paths import BOT, ROOT
from yinling.cli import main as cli_main
from yinling.stack import PROCESS_NAMES, Stack, StackConfig

UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/yinling"  # where the units expect the checkout
ENV_FILE = "/etc/yinling/yinling.env"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True, empty_lines_in_values=False)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string((UNITS / name).read_text(), source=name)
    return parser


def installed(path: str | Path) -> str:
    """A path of this checkout as it is on an installed machine."""
    text = str(path)
    return INSTALLED + text[len(str(ROOT)):] if text.startswith(str(ROOT)) else text


def env_file() -> dict[str, str]:
    pairs = {}
    for line in (UNITS / "yinling.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


@pytest.fixture(scope="module")
def stack():
    s = Stack(StackConfig())  # the defaults `yinling run` and the units use; nothing is started
    yield s
    s.stop()  # removes the endpoints file command("rasa") wrote


@pytest.mark.parametrize("name", PROCESS_NAMES)
def test_each_unit_runs_the_command_of_the_stack(stack, name):
    service = unit(f"yinling-{name}.service")["Service"]
    command = stack.command(name)
    expected = [installed(arg) for arg in command.argv]
    if name == "rasa":  # the stack writes its endpoints for its ports; the units use bot/endpoints.yml
        i = expected.index("--endpoints") + 1
        expected[i] = "endpoints.yml"
    assert shlex.split(service["ExecStart"]) == expected
    assert service["WorkingDirectory"] == installed(command.cwd)
    assert service["EnvironmentFile"] == ENV_FILE
    assert service["User"] == "yinling" and service["Type"] == "exec"


def test_bot_endpoints_say_what_the_stack_writes_for_the_default_ports(stack):
    written = stack._write_endpoints()
    try:
        def endpoint(text: str) -> dict[str, str]:
            block = text.split("action_endpoint:", 1)[1]
            return dict(re.findall(r"^\s+(\w+):\s*\"?([^\"\n]+)\"?\s*$", block.split("\n\n")[0], re.M))

        assert endpoint((BOT / "endpoints.yml").read_text()) == endpoint(written.read_text()) == {
            "url": "http://127.0.0.1:5055/webhook", "enable_selective_domain": "true"}
    finally:
        written.unlink()


def test_the_environment_file_gives_what_the_stack_gives(stack, monkeypatch):
    for key in list(stack._env()):
        if key.startswith("YINLING_"):
            monkeypatch.delenv(key, raising=False)
    ours = {k: installed(v) for k, v in stack._env().items()
            if k in ("PYTHONPATH", "PYTHONUNBUFFERED", "PYTHONFAULTHANDLER", "SANIC_HOST") or k.startswith("YINLING_")}
    assert set(ours) == {"PYTHONPATH", "YINLING_RASA_URL", "YINLING_ACTIONS_URL", "SANIC_HOST", "PYTHONUNBUFFERED",
                         "PYTHONFAULTHANDLER"}, "the stack sets something new: add it to deploy/systemd/yinling.env"
    given = env_file()
    assert {k: given.get(k) for k in ours} == ours
    assert given["YINLING_VAR_DIR"] == "/var/lib/yinling"


@pytest.mark.parametrize("name", PROCESS_NAMES)
def test_each_unit_restarts_for_ever_with_a_growing_pause(name):
    parsed = unit(f"yinling-{name}.service")
    service = parsed["Service"]
    assert service["Restart"] == "always"
    assert parsed["Unit"]["StartLimitIntervalSec"] == "0", "never left down after a burst of crashes"
    assert float(service["RestartSec"]) <= 2
    assert int(service["RestartSteps"]) >= 1 and float(service["RestartMaxDelaySec"]) == 30
    assert parsed["Unit"]["PartOf"] == "yinling.target" and parsed["Install"]["WantedBy"] == "yinling.target"
    assert "yinling-migrate.service" in parsed["Unit"]["After"].split()
    assert service["StateDirectory"] == "yinling"


def test_the_target_starts_all_and_the_migration_is_a_command_of_the_cli():
    target = unit("yinling.target")
    wanted = set(" ".join(target["Unit"]["Wants"].split("\n")).split())
    assert {f"yinling-{n}.service" for n in PROCESS_NAMES} | {"yinling-migrate.service"} <= wanted
    migrate = unit("yinling-migrate.service")["Service"]
    argv = shlex.split(migrate["ExecStart"])
    assert argv[:3] == [installed(ROOT / ".venv" / "bin" / "python"), "-m", "yinling"]
    with pytest.raises(SystemExit) as e:  # argparse knows it: prints the usage and exits 0
        cli_main([*argv[3:], "--help"])
    assert e.value.code == 0 and argv[3:] == ["db", "upgrade"]
    assert migrate["Type"] == "oneshot" and migrate["Restart"] == "on-failure"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed here")
def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    """The units with /opt/yinling read as this checkout (verify checks that the programs exist)."""
    env = tmp_path / "yinling.env"
    env.write_text((UNITS / "yinling.env").read_text())
    copies = []
    for path in sorted(UNITS.glob("yinling*")):
        if path.suffix not in (".service", ".target"):
            continue
        copy = tmp_path / path.name
        copy.write_text(path.read_text().replace(ENV_FILE, str(env)).replace(INSTALLED, str(ROOT)))
        copies.append(str(copy))
    assert len(copies) == 5
    result = subprocess.run(["systemd-analyze", "verify", *copies], capture_output=True, text=True, timeout=60)
    said = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    version = int(subprocess.run(["systemd-analyze", "--version"], capture_output=True, text=True)
                  .stdout.split()[1])
    # systemd before 254 (Debian 12 has 252) does not know the growing pause yet and ignores it
    known = re.compile(r"Unknown key '(RestartSteps|RestartMaxDelaySec)' in section \[Service\], ignoring\.$")
    unexpected = [line for line in said if not (version < 254 and known.search(line))]
    assert result.returncode == 0 and unexpected == [], "\n".join(said)
