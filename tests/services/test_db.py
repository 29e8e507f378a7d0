"""services.db's write queue: on a SQLite file, writers of one process wait their turn at our lock
(woken the moment the last writer commits) instead of in SQLite's sleeping busy handler."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from services.db import _WRITE_QUEUES, make_engine, session_factory, unit_of_work
from services.facade import Services
from tests.pg import require_pg, temp_schema


@pytest.fixture()
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def transaction(engine, *statements: str, inside=None) -> None:
    """One unit of work as Services._run makes it; `inside` runs after the statements, before commit."""
    session = session_factory(engine)()
    try:
        with unit_of_work(engine), session.begin():
            for statement in statements:
                session.execute(text(statement))
            if inside:
                inside()
    finally:
        session.close()


def test_a_second_writer_waits_at_the_queue_and_goes_in_when_the_first_commits(engine):
    queue = _WRITE_QUEUES[engine]
    first_wrote, release_first, second_done = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        transaction(engine, "INSERT INTO t VALUES (1)", inside=lambda: (first_wrote.set(), release_first.wait(5)))

    def second() -> None:
        transaction(engine, "INSERT INTO t VALUES (2)")
        second_done.set()

    a = threading.Thread(target=first)
    a.start()
    assert first_wrote.wait(5)
    assert queue._lock.locked()  # held from the first INSERT until the commit
    b = threading.Thread(target=second)
    b.start()
    assert not second_done.wait(0.3)  # queued behind the first writer
    start = time.perf_counter()
    release_first.set()
    assert second_done.wait(5)
    waited = time.perf_counter() - start
    a.join(5)
    b.join(5)
    assert not queue._lock.locked()
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT n FROM t")).scalars()) == [1, 2]
    assert waited < 1.0  # went in on the first writer's commit, not after a busy-handler nap of seconds


def test_readers_never_wait_for_a_writer(engine):
    wrote, release = threading.Event(), threading.Event()
    writer = threading.Thread(target=transaction, args=(engine, "INSERT INTO t VALUES (1)"),
                              kwargs={"inside": lambda: (wrote.set(), release.wait(5))})
    writer.start()
    assert wrote.wait(5)
    try:
        start = time.perf_counter()
        transaction(engine, "SELECT count(*) FROM t")  # WAL: readers see the last commit, no lock
        assert time.perf_counter() - start < 0.5
    finally:
        release.set()
        writer.join(5)


def test_the_lock_is_given_back_after_a_rollback(engine):
    queue = _WRITE_QUEUES[engine]

    def fail() -> None:
        raise RuntimeError("use-case failed")

    with pytest.raises(RuntimeError):
        transaction(engine, "INSERT INTO t VALUES (1)", inside=fail)
    assert not queue._lock.locked()
    transaction(engine, "UPDATE t SET n = 3")  # the next writer is not stuck
    with engine.connect() as conn:
        assert list(conn.execute(text("SELECT n FROM t")).scalars()) == []


def test_a_nested_unit_of_work_leaves_the_lock_to_the_outer_one(engine):
    queue = _WRITE_QUEUES[engine]

    def nested() -> None:
        transaction(engine, "SELECT 1")
        assert queue._lock.locked()  # still the outer writer's

    transaction(engine, "DELETE FROM t", inside=nested)
    assert not queue._lock.locked()


def test_statements_outside_a_unit_of_work_never_take_the_lock(engine):
    with engine.begin() as conn:  # migrations, seeding tools
        conn.execute(text("INSERT INTO t VALUES (5)"))
    assert not _WRITE_QUEUES[engine]._lock.locked()


def test_twenty_concurrent_services_writers_all_land(tmp_path):
    services = Services(f"sqlite:///{tmp_path / 's.db'}")
    services.create_all_and_seed()
    errors: list[BaseException] = []

    def chat(n: int) -> None:
        try:
            for k in range(5):
                services.log_exchange(f"c-{n}", "r-0001", "text", [("elder", f"问{n}-{k}", None),
                                                                  ("bot", f"答{n}-{k}", None)])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=chat, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(len(services.conversation(f"c-{n}")) for n in range(20)) == 20 * 5 * 2
    assert not _WRITE_QUEUES[services.engine]._lock.locked()
    services.close()


@pytest.mark.postgres
def test_postgresql_queues_its_own_writers():
    require_pg()
    with temp_schema() as url:
        engine = make_engine(url)
        try:
            assert engine not in _WRITE_QUEUES
            with unit_of_work(engine):  # a no-op there
                pass
        finally:
            engine.dispose()
