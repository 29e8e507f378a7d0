"""hotline call records

Revision ID: 0004_call_records
Revises: 0003_device_endpoint
Create Date: 2026-11-23 13:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0004_call_records'
down_revision: Union[str, None] = '0003_device_endpoint'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Written from services.models.CallRecord, then checked against autogenerate (tests/services/test_migrations.py).
    op.create_table('call_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sip_call_id', sa.String(length=120), nullable=False),
    sa.Column('caller_number', sa.String(length=40), nullable=True),
    sa.Column('caller_kind', sa.String(length=10), nullable=False),
    sa.Column('resident_id', sa.String(length=20), nullable=True),
    sa.Column('family_member_id', sa.String(length=20), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('intents', sa.JSON(), nullable=False),
    sa.Column('digits', sa.String(length=40), nullable=False),
    sa.Column('transcript', sa.JSON(), nullable=False),
    sa.Column('help_request_id', sa.Integer(), nullable=True),
    sa.Column('handoff_id', sa.Integer(), nullable=True),
    sa.Column('transfer_target', sa.String(length=200), nullable=True),
    sa.Column('audio_path', sa.String(length=300), nullable=True),
    sa.Column('audio_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("caller_kind IN ('resident', 'family', 'unknown')", name=op.f('ck_call_records_caller_kind')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('completed', 'caller_hung_up', 'transferred', 'transfer_failed', "
                       "'emergency', 'timed_out', 'rejected', 'failed')", name=op.f('ck_call_records_outcome')),
    sa.ForeignKeyConstraint(['family_member_id'], ['family_members.id'],
                            name=op.f('fk_call_records_family_member_id_family_members')),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], name=op.f('fk_call_records_handoff_id_handoffs')),
    sa.ForeignKeyConstraint(['help_request_id'], ['help_requests.id'],
                            name=op.f('fk_call_records_help_request_id_help_requests')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_call_records_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_records')),
    sa.UniqueConstraint('sip_call_id', name='uq_call_records_sip_call_id')
    )
    with op.batch_alter_table('call_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_records_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_records_started_at'), ['started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('call_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_records_started_at'))
        batch_op.drop_index(batch_op.f('ix_call_records_resident_id'))
    op.drop_table('call_records')
