"""Engine and session construction, with the per-backend settings the use-cases rely on."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator
from weakref import WeakKeyDictionary

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
        _WRITE_QUEUES[engine] = queue = WriteQueue()
        event.listen(engine, "before_cursor_execute", queue.before_cursor_execute)
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


class WriteQueue:
    """Writers of one process take their turn at a SQLite file here, first come first served.

    SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps and
    polls (1, 2, 5, 10 … up to 100 ms a nap) and so can sleep on for tens of milliseconds after the
    file is free. With 20 chats logging their turns at once, a profile of the gateway found a third of
    its threads' time in those waits.
    Here a unit of work (`unit_of_work`) takes the process's lock just before its first INSERT,
    UPDATE or DELETE (reads never wait) and gives it back after its commit or rollback, so the next
    writer goes in the moment the last one is done. Other processes on the same file still meet at
    SQLite's own lock. A lock not had within the busy timeout is done without, and SQLite's
    own timeout then decides, as before.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # .active: inside a unit of work; .asked: has asked for the lock; .held: got it
        self._local = threading.local()

    def before_cursor_execute(self, _conn, _cursor, statement: str, _params, _context, _many) -> None:
        local = self._local
        if getattr(local, "active", False) and not getattr(local, "asked", False) and _writes(statement):
            local.asked = True
            local.held = self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        local = self._local
        if getattr(local, "active", False):  # nested in this thread's unit of work: that one decides
            yield
            return
        local.active, local.asked, local.held = True, False, False
        try:
            yield
        finally:
            if local.held:
                self._lock.release()
            local.active = local.asked = local.held = False


_WRITE_QUEUES: "WeakKeyDictionary[Engine, WriteQueue]" = WeakKeyDictionary()
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


def _writes(statement: str) -> bool:
    return statement.lstrip()[:6].upper() in _WRITES


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[None]:
    """Around one transaction, commit or rollback included: on SQLite, writers queue in-process
    (see WriteQueue); other databases queue writers themselves."""
    queue = _WRITE_QUEUES.get(engine)
    if queue is None:
        yield
        return
    with queue.unit_of_work():
        yield
