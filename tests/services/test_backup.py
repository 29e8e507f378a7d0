"""Backup and restore (services.backup, `yinling db backup|restore`): SQLite through the online backup API,
PostgreSQL through pg_dump/pg_restore, each restored into a fresh database the test then uses."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from services import backup
from services.facade import Services
from services.migrate import alembic_config
from tests.pg import PG_URL, require_pg
from tests.services.conftest import NOW, TODAY, Clock, new_key

ROOT = Path(__file__).resolve().parents[2]
TOMORROW = TODAY + timedelta(days=1)
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def open_services(url: str, tmp_path: Path) -> Services:
    return Services(url, clock=Clock(NOW), outbox=tmp_path / f"outbox-{uuid.uuid4().hex[:6]}.jsonl")


def seed_with_history(url: str, tmp_path: Path) -> tuple[int, int]:
    """Seeded residents, plus a help request and a meal order made before the backup: their ids."""
    svc = open_services(url, tmp_path)
    try:
        svc.create_all_and_seed(TODAY)
        help_request = svc.raise_help("r-0001", "我摔倒了，快来人", "text", new_key("help"))
        order = svc.book_meal("r-0002", TOMORROW, "lunch", 2, idempotency_key=new_key(), actor="resident:r-0002")
        return help_request.id, order.id
    finally:
        svc.close()


def assert_restored(url: str, tmp_path: Path, help_id: int, order_id: int) -> None:
    """The restored database works through the facade: the history is there, the schema at head."""
    svc = open_services(url, tmp_path)
    try:
        assert svc.get_resident("r-0001").id == "r-0001"
        assert svc.get_help(help_id).resident_id == "r-0001"
        assert order_id in [o.id for o in svc.upcoming_orders("r-0002", TODAY)]
        with svc.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
        new = svc.book_meal("r-0001", TOMORROW, "dinner", 1, idempotency_key=new_key(), actor="resident:r-0001")
        assert new.id != order_id
        assert new.id in [o.id for o in svc.upcoming_orders("r-0001", TODAY)]
    finally:
        svc.close()


def wait_for(condition, thread: threading.Thread, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert thread.is_alive(), "the writer stopped"
        assert time.monotonic() < deadline, "the writer made no progress"
        time.sleep(0.01)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- SQLite ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory):
    """A seeded SQLite database with a help request and an order, and a backup of it."""
    tmp = tmp_path_factory.mktemp("bk-sqlite")
    url = sqlite_url(tmp / "live.db")
    help_id, order_id = seed_with_history(url, tmp)
    info = backup.backup(tmp / "yinling.backup", url)
    return url, info, help_id, order_id


def test_sqlite_backup_is_a_private_checked_sqlite_file(sqlite_source):
    _, info, _, _ = sqlite_source
    assert info.kind == "sqlite" and info.revision == HEAD
    assert mode(info.path) == 0o600
    assert info.path.read_bytes()[:16] == b"SQLite format 3\x00"
    assert not Path(f"{info.path}-wal").exists()
    with sqlite3.connect(info.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # self-contained: one file
    assert not list(info.path.parent.glob(".yinling.backup.*.tmp"))


def test_sqlite_restore_into_a_fresh_file_then_use_it(sqlite_source, tmp_path):
    _, info, help_id, order_id = sqlite_source
    target = tmp_path / "restored.db"
    backup.restore(info.path, sqlite_url(target))
    assert mode(target) == 0o600
    assert_restored(sqlite_url(target), tmp_path, help_id, order_id)


def test_sqlite_restore_refuses_a_database_that_is_not_empty_unless_forced(sqlite_source, tmp_path):
    _, info, help_id, order_id = sqlite_source
    target = sqlite_url(tmp_path / "other.db")
    svc = open_services(target, tmp_path)
    svc.create_all_and_seed(TODAY)
    later = svc.raise_help("r-0003", "不舒服", "text", new_key("help"))
    svc.close()
    with pytest.raises(backup.TargetNotEmpty, match="not empty.*--force"):
        backup.restore(info.path, target)
    backup.restore(info.path, target, force=True)
    assert_restored(target, tmp_path, help_id, order_id)
    assert later.id is not None
    with sqlite3.connect(tmp_path / "other.db") as conn:  # what was there is replaced by the backup
        assert conn.execute("SELECT count(*) FROM help_requests WHERE resident_id = 'r-0003'").fetchone()[0] == 0


def test_sqlite_backup_while_the_gateway_writes(tmp_path):
    """The online backup API copies a consistent snapshot while another connection keeps committing."""
    url = sqlite_url(tmp_path / "busy.db")
    help_id, order_id = seed_with_history(url, tmp_path)
    writer = open_services(url, tmp_path)
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        while not stop.is_set():
            written.append(writer.raise_help("r-0004", "帮帮我", "text", new_key("busy")).id)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        wait_for(lambda: len(written) >= 5, thread)
        info = backup.backup(tmp_path / "busy.backup", url)
        after = len(written)
        wait_for(lambda: len(written) >= after + 5, thread)  # the writer went on committing after the copy
    finally:
        stop.set()
        thread.join(10)
        writer.close()
    assert written and not thread.is_alive()
    target = sqlite_url(tmp_path / "busy-restored.db")
    backup.restore(info.path, target)
    assert_restored(target, tmp_path, help_id, order_id)
    with sqlite3.connect(tmp_path / "busy-restored.db") as conn:
        copied = conn.execute("SELECT count(*) FROM help_requests WHERE resident_id = 'r-0004'").fetchone()[0]
    assert 5 <= copied <= len(written)


def test_foreign_damaged_and_wrong_kind_files_are_refused(sqlite_source, tmp_path):
    _, info, _, _ = sqlite_source
    fresh = sqlite_url(tmp_path / "fresh.db")
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup\n")
    with pytest.raises(backup.NotABackup, match="not a Yinling backup"):
        backup.restore(junk, fresh)
    other_app = tmp_path / "other-app.db"
    with sqlite3.connect(other_app) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(backup.NotABackup, match="not a Yinling database"):
        backup.restore(other_app, fresh)
    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(info.path.read_bytes()[:5000])
    with pytest.raises(backup.NotABackup):
        backup.restore(truncated, fresh)
    with pytest.raises(backup.WrongKind, match="SQLite backup and cannot be restored into a PostgreSQL"):
        backup.restore(info.path, "postgresql+psycopg://postgres@127.0.0.1:1/none")
    fake_dump = tmp_path / "fake.dump"
    fake_dump.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
    with pytest.raises(backup.WrongKind, match="PostgreSQL backup and cannot be restored into a SQLite"):
        backup.restore(fake_dump, fresh)
    with pytest.raises(backup.BackupError, match="no backup file"):
        backup.restore(tmp_path / "missing.backup", fresh)
    assert not (tmp_path / "fresh.db").exists()  # nothing was created for a refused restore


def test_backup_of_a_missing_database_says_so(tmp_path):
    with pytest.raises(backup.BackupError, match="no SQLite database"):
        backup.backup(tmp_path / "x.backup", sqlite_url(tmp_path / "nothing.db"))
    assert not list(tmp_path.iterdir())


# --- PostgreSQL -----------------------------------------------------------------------------------------

@pytest.fixture
def scratch_databases():
    """Makes PostgreSQL databases of our own on the test server (yl_bk_…) and drops them afterwards."""
    require_pg()
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"yl_bk_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return admin.url.set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_postgresql_backup_and_restore_into_a_fresh_database(scratch_databases, tmp_path):
    source = scratch_databases()
    help_id, order_id = seed_with_history(source, tmp_path)
    info = backup.backup(tmp_path / "yinling.dump", source)
    assert info.kind == "postgresql"
    assert mode(info.path) == 0o600
    assert info.path.read_bytes()[:5] == b"PGDMP"

    fresh = scratch_databases()
    backup.restore(info.path, fresh)
    assert_restored(fresh, tmp_path, help_id, order_id)

    with pytest.raises(backup.TargetNotEmpty, match="not empty"):
        backup.restore(info.path, fresh)
    backup.restore(info.path, fresh, force=True)  # replaces the order made after the restore
    assert_restored(fresh, tmp_path, help_id, order_id)

    with pytest.raises(backup.WrongKind, match="PostgreSQL backup and cannot be restored into a SQLite"):
        backup.restore(info.path, sqlite_url(tmp_path / "x.db"))
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(info.path.read_bytes()[:2000])
    with pytest.raises(backup.NotABackup):
        backup.restore(truncated, scratch_databases())


# --- the command ----------------------------------------------------------------------------------------

def yinling(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "yinling", "db", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_round_trip(tmp_path):
    live = sqlite_url(tmp_path / "live.db")
    help_id, order_id = seed_with_history(live, tmp_path)
    out = tmp_path / "nightly.backup"
    done = yinling("backup", str(out), "--database-url", live)
    assert done.returncode == 0, done.stderr
    assert "personal data" in done.stdout and mode(out) == 0o600

    restored = sqlite_url(tmp_path / "restored.db")
    done = yinling("restore", str(out), "--database-url", restored)
    assert done.returncode == 0, done.stderr
    assert_restored(restored, tmp_path, help_id, order_id)

    again = yinling("restore", str(out), "--database-url", restored)
    assert again.returncode == 1 and "not empty" in again.stderr and "--force" in again.stderr
    no_url = yinling("restore", str(out))
    assert no_url.returncode == 2 and "--database-url" in no_url.stderr
