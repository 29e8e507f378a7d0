"""Backup and restore of the services database (`yinling db backup` / `yinling db restore`).

SQLite (the default): the file is copied with SQLite's online backup API (`sqlite3.Connection.backup`),
which reads a consistent snapshot while the gateway and the action server go on writing (WAL mode lets
them); the copy is one self-contained SQLite file (rollback journal, no -wal/-shm beside it), checked
with `PRAGMA integrity_check` before it replaces anything.
PostgreSQL: `pg_dump --format=custom` (Debian's postgresql-client), restored with `pg_restore` in one
transaction. The kind of backup follows from the database URL and, on restore, from the file's first
bytes ("SQLite format 3\\0" or "PGDMP"); one kind is never restored into the other.

A restore goes into a fresh (empty) database unless `force`, then brings it to the newest Alembic
revision, so a backup from an older release comes back usable.

A backup holds everything the services database holds: residents' names, ID-number hashes, phone
numbers, addresses, health readings, help requests, conversations, accounts (password hashes). It is
written mode 0600; keep it where only the operators of the installation can read it.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from services import config
from services.errors import ServiceError
from services.migrate import upgrade

Kind = Literal["sqlite", "postgresql"]
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
VERSION_TABLE = "alembic_version"
PG_TIMEOUT_S = 600
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupError(ServiceError):
    """A backup or restore that cannot be done; the message says why and what to do."""

    code = "backup_error"


class NotABackup(BackupError):
    """The file is no Yinling backup: another format, damaged or truncated, or another application's."""

    code = "not_a_backup"


class WrongKind(BackupError):
    """A SQLite backup given a PostgreSQL URL to restore into, or the other way round."""

    code = "backup_wrong_kind"

    def __init__(self, file_kind: Kind, url_kind: Kind) -> None:
        super().__init__(
            f"this is a {KIND_NAMES[file_kind]} backup and cannot be restored into a {KIND_NAMES[url_kind]} "
            f"database; restore it into a {KIND_NAMES[file_kind]} database URL "
            f"({'sqlite:///PATH' if file_kind == 'sqlite' else 'postgresql+psycopg://USER@HOST/DB'})")
        self.file_kind = file_kind
        self.url_kind = url_kind


class TargetNotEmpty(BackupError):
    """The database to restore into already has tables; a restore would replace them."""

    code = "backup_target_not_empty"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: Kind
    size_bytes: int
    revision: Optional[str]  # the Alembic revision in the backup (on restore: before the upgrade)


# --- which kind -------------------------------------------------------------------------------------

def url_kind(url: str) -> Kind:
    backend = make_url(url).get_backend_name()
    if backend in ("sqlite", "postgresql"):
        return backend  # type: ignore[return-value]
    raise BackupError(f"backups are for SQLite and PostgreSQL databases, not {backend!r}")


def file_kind(path: str | Path) -> Kind:
    """From the file's header; NotABackup when it is neither."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"no backup file at {path}") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise NotABackup(f"{path} is not a Yinling backup (neither a SQLite file nor a pg_dump custom-format archive)")


# --- the two commands --------------------------------------------------------------------------------

def backup(path: str | Path, url: Optional[str] = None) -> BackupInfo:
    """Write a backup of the database at `url` (default: services.config) to `path`, mode 0600.
    The file appears only once complete and checked (a temporary file beside it, then renamed)."""
    url = url or config.database_url()
    path = Path(path)
    if not path.parent.is_dir():
        raise BackupError(f"no directory {path.parent} for the backup")
    kind = url_kind(url)
    tmp = _private_temp(path)
    try:
        if kind == "sqlite":
            source = _sqlite_path(url)
            if not source.is_file():
                raise BackupError(f"no SQLite database at {source}")
            if path.resolve() == source.resolve():
                raise BackupError("the backup file cannot be the database itself")
            _sqlite_copy(source, tmp)
            revision = _check_sqlite_backup(tmp)
        else:
            _run_pg(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={tmp}"], url)
            revision = None
            _check_pg_backup(tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupInfo(path, kind, path.stat().st_size, revision)


def restore(path: str | Path, url: str, *, force: bool = False) -> BackupInfo:
    """Restore the backup at `path` into the database at `url`, which must be empty unless `force`
    (then what is there is replaced), and migrate it to the newest revision."""
    path = Path(path)
    kind = url_kind(url)
    found = file_kind(path)
    if found != kind:
        raise WrongKind(found, kind)
    if kind == "sqlite":
        revision = _check_sqlite_backup(path)
        target = _sqlite_path(url)
        if not target.parent.is_dir():
            raise BackupError(f"no directory {target.parent} for the database")
        if target.exists() and path.resolve() == target.resolve():
            raise BackupError("the backup file cannot be restored onto itself")
        if not target.exists():  # personal data: 0600 from the start
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        _refuse_unless_empty(url, force)
        with closing(_read_only(path)) as src, closing(sqlite3.connect(target, timeout=10)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")  # as services.db runs it
    else:
        _check_pg_backup(path)
        revision = None
        _refuse_unless_empty(url, force)
        args = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        if force:
            args += ["--clean", "--if-exists"]
        _run_pg([*args, str(path)], url)
    upgrade(url)
    return BackupInfo(path, kind, path.stat().st_size, revision)


# --- SQLite ------------------------------------------------------------------------------------------

def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"backup and restore need a SQLite file (sqlite:///PATH), not {url!r}")
    return Path(database)


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _sqlite_copy(source: Path, dest: Path) -> None:
    # One step (pages=-1): a read transaction on a consistent snapshot; WAL writers are not held up.
    with closing(sqlite3.connect(source, timeout=10)) as src, \
            closing(sqlite3.connect(dest)) as dst:
        src.backup(dst)
        # A self-contained file: the copy takes the source's WAL mark; give it a rollback journal.
        dst.execute("PRAGMA journal_mode=DELETE")


def _check_sqlite_backup(path: Path) -> Optional[str]:
    """integrity_check, and that it is a Yinling database (Alembic's version table); its revision."""
    try:
        with closing(_read_only(path)) as conn:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                raise NotABackup(f"{path} is a damaged SQLite file: {'; '.join(result[:3])}")
            has_version = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)).fetchone()
            if not has_version:
                raise NotABackup(f"{path} is a SQLite file but not a Yinling database (no {VERSION_TABLE} table)")
            row = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
            return row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise NotABackup(f"{path} is not a readable SQLite file: {exc}") from None


# --- PostgreSQL --------------------------------------------------------------------------------------

def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL as a libpq connection URI, the password in PGPASSWORD (not on a command line)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run_pg(args: list[str], url: str) -> None:
    tool = args[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} not found: install Debian's postgresql-client (apt-get install postgresql-client)")
    dsn, env = _libpq(url)
    try:
        done = subprocess.run([*args, f"--dbname={dsn}"], env=env, capture_output=True, text=True,
                              timeout=PG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{tool} did not finish within {PG_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def _check_pg_backup(path: Path) -> None:
    """pg_restore can read its table of contents, and it holds Alembic's version table."""
    if shutil.which("pg_restore") is None:
        raise BackupError("pg_restore not found: install Debian's postgresql-client (apt-get install postgresql-client)")
    done = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True,
                          timeout=PG_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise NotABackup(f"{path} is not a readable pg_dump archive: {done.stderr.strip()[-500:]}")
    if not re.search(rf"^\d+; .* TABLE DATA \S+ {VERSION_TABLE}\b", done.stdout, re.MULTILINE):
        raise NotABackup(f"{path} is a pg_dump archive but not of a Yinling database (no {VERSION_TABLE} data)")


# --- both --------------------------------------------------------------------------------------------

def _refuse_unless_empty(url: str, force: bool) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                tables = conn.execute(text(
                    "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")).scalars().all()
            else:
                tables = inspect(conn).get_table_names()
    except Exception as exc:  # cannot connect: say where and why, before anything is changed
        raise BackupError(f"cannot open the database to restore into: {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
    if tables and not force:
        shown = ", ".join(tables[:5]) + (" …" if len(tables) > 5 else "")
        raise TargetNotEmpty(
            f"the database to restore into is not empty ({len(tables)} tables: {shown}); restore into a fresh "
            "database, or pass --force to replace what is there")


def _private_temp(path: Path) -> Path:
    """An empty file beside `path`, mode 0600 from the start (personal data)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)  # mkstemp creates it 0600
    return Path(name)
