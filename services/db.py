"""Engine and session construction, with the per-backend settings the use-cases rely on."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Threads share the engine (action server, gateway); every connection gets its own pragmas.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkout", _sqlite_foreign_keys_on)
        return engine
    connect_args = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # Fail fast to the outbox instead of hanging on an unreachable server.
        connect_args["connect_timeout"] = 5
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers proceed while one writer commits; busy_timeout makes writers queue
        # instead of failing with "database is locked"; SQLite leaves FKs off unless asked.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


FOREIGN_KEYS_OFF = "yinling_sqlite_foreign_keys_off"  # set on a pooled connection's info by a migration run


def _sqlite_foreign_keys_on(dbapi_connection, record, _proxy) -> None:
    # A migration run turns enforcement off on its connection (services/migrations/env.py, for batch
    # mode) and marks it; whoever checks that connection out next gets enforcement back on. Only the
    # marked one: a PRAGMA on every checkout was about 4 % of the gateway's CPU. No transaction is open here.
    if not record.info.pop(FOREIGN_KEYS_OFF, False):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # Views are built before commit, but keep loaded attributes usable after it anyway.
    return sessionmaker(engine, expire_on_commit=False)
