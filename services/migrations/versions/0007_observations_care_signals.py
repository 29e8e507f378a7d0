"""health observations (complaints) and care signals (loneliness)

Revision ID: 0007_observations_care_signals
Revises: 0006_conversation_log
Create Date: 2026-11-26 10:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0007_observations_care_signals'
down_revision: Union[str, None] = '0006_conversation_log'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Written from services.models.HealthObservation and CareSignal, then checked against autogenerate
    # (tests/services/test_migrations.py). Two new tables: nothing existing is copied or altered.
    op.create_table('health_observations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('words', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('body_part', sa.String(length=10), nullable=True),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('after_medicine', sa.Boolean(), nullable=False),
    sa.Column('worse', sa.Boolean(), nullable=False),
    sa.Column('limits_walking', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('alerted', sa.Boolean(), nullable=False),
    sa.Column('alert_reason', sa.String(length=40), nullable=True),
    sa.Column('notified', sa.JSON(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'],
                            name=op.f('fk_health_observations_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_observations')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_health_observations_idempotency_key'))
    )
    with op.batch_alter_table('health_observations', schema=None) as batch_op:
        batch_op.create_index('ix_health_observations_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_health_observations_resident_kind_created', ['resident_id', 'kind', 'created_at'],
                              unique=False)

    op.create_table('care_signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('words', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('offer', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.CheckConstraint("kind IN ('lonely')", name=op.f('ck_care_signals_kind')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_care_signals_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_signals')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_care_signals_idempotency_key'))
    )
    with op.batch_alter_table('care_signals', schema=None) as batch_op:
        batch_op.create_index('ix_care_signals_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_care_signals_resident_created', ['resident_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('care_signals', schema=None) as batch_op:
        batch_op.drop_index('ix_care_signals_resident_created')
        batch_op.drop_index('ix_care_signals_created_at')
    op.drop_table('care_signals')

    with op.batch_alter_table('health_observations', schema=None) as batch_op:
        batch_op.drop_index('ix_health_observations_resident_kind_created')
        batch_op.drop_index('ix_health_observations_created_at')
    op.drop_table('health_observations')
