from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from services.db import make_engine
from services.facade import Services
from services.migrate import alembic_config, upgrade
from services.models import Base
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
