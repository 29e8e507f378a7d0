import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.db import make_engine
from services.facade import Services
from services.migrate import alembic_config, upgrade
from services.models import Base, ConversationTurn
from services.types import DeviceEndpoint
from tests.services.conftest import TODAY


def test_upgrade_on_empty_database_creates_every_table(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
    finally:
        engine.dispose()


def test_migrations_match_the_models(db_url):
    upgrade(db_url)  # a second upgrade is a no-op
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
        assert diffs == []
    finally:
        engine.dispose()


def test_partial_unique_indexes_exist(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        names = {ix["name"] for ix in inspect(engine).get_indexes("meal_orders")}
        assert "uq_meal_orders_active_per_meal" in names
        names = {ix["name"] for ix in inspect(engine).get_indexes("handoffs")}
        assert "uq_handoffs_open_per_conversation" in names
    finally:
        engine.dispose()


def test_device_endpoint_columns_come_and_go_with_their_migration(db_url, clock, tmp_path):
    """0003 adds the per-device end-of-speech columns (NULL for speakers that existed before) and
    its downgrade removes them again without losing the devices."""
    svc = Services(db_url, clock=clock, outbox=tmp_path / "outbox.jsonl")
    try:
        svc.create_all_and_seed(TODAY)
        svc.register_device("spk-m1", "websocket", None, "r-0001", "x")
        svc.set_device_endpoint("spk-m1", DeviceEndpoint(trailing_silence_s=0.8))
        svc.engine.dispose()  # nothing pooled keeps a view of the old columns
        command.downgrade(alembic_config(db_url), "0002_speaker_devices")
        engine = make_engine(db_url)
        try:
            columns = {c["name"] for c in inspect(engine).get_columns("speaker_devices")}
            assert not columns & {"trailing_silence_s", "max_utterance_s", "no_speech_timeout_s"}
            with engine.connect() as conn:
                assert conn.execute(text("SELECT resident_id FROM speaker_devices WHERE id = 'spk-m1'")
                                    ).scalar_one() == "r-0001"
        finally:
            engine.dispose()
        upgrade(db_url)
        assert svc.get_device("spk-m1").endpoint == DeviceEndpoint()  # back up: NULL, the gateway's default
    finally:
        svc.close()


def test_conversation_log_migration_up_and_down_with_help_requests_referenced(db_url, clock, tmp_path):
    """0006 widens help_requests' channel CHECK, which on SQLite means copying a table that notifications
    and call records point at: it must work with such rows present, and its downgrade too (web -> text)."""
    svc = Services(db_url, clock=clock, outbox=tmp_path / "outbox.jsonl")
    try:
        svc.create_all_and_seed(TODAY)
        web = svc.raise_help("r-0001", "网页求助", "web", "mig-web-help")
        assert web.notified  # notification rows now reference the request
        svc.log_turn("mig-conv", "r-0001", "web", "family", "你好")
        svc.engine.dispose()
        command.downgrade(alembic_config(db_url), "0005_web_accounts")
        engine = make_engine(db_url)
        try:
            assert "conversation_turns" not in inspect(engine).get_table_names()
            with engine.connect() as conn:
                assert conn.execute(text("SELECT channel FROM help_requests WHERE id = :id"), {"id": web.id}
                                    ).scalar_one() == "text"
                assert conn.execute(text("SELECT count(*) FROM notifications WHERE help_request_id = :id"),
                                    {"id": web.id}).scalar_one() == len(web.notified)
        finally:
            engine.dispose()
        upgrade(db_url)
        again = svc.raise_help("r-0001", "又一次网页求助", "web", "mig-web-help-2")
        assert svc.get_help(again.id).status == "open"
        assert svc.conversation("mig-conv") == []
    finally:
        svc.close()


def test_foreign_keys_are_enforced_after_a_migration(db_url, clock, tmp_path):
    """SQLite migrations run with foreign-key enforcement off (batch mode); the connection that ran them
    must not keep it off when the pool hands it out again."""
    svc = Services(db_url, clock=clock, outbox=tmp_path / "outbox.jsonl")
    try:
        svc.create_all_and_seed(TODAY)
        for _ in range(3):  # whichever pooled connection comes next
            with pytest.raises(IntegrityError):
                with Session(svc.engine) as session, session.begin():
                    session.add(ConversationTurn(conversation_id="fk", resident_id="r-nobody", channel="web",
                                                 role="elder", text="x", created_at=clock.now))
    finally:
        svc.close()
