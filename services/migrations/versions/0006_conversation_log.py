"""conversation log; web help requests

Revision ID: 0006_conversation_log
Revises: 0005_web_accounts
Create Date: 2026-11-24 09:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0006_conversation_log'
down_revision: Union[str, None] = '0005_web_accounts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

HELP_CHANNELS_BEFORE = "channel IN ('text', 'speaker', 'phone')"
HELP_CHANNELS_AFTER = "channel IN ('text', 'speaker', 'phone', 'web')"


def _help_channels(check: str) -> None:
    # SQLite cannot alter a CHECK in place: batch mode copies help_requests, which notifications and
    # call_records reference; env.py turns SQLite's foreign-key enforcement off for the migration run
    # (and checks the keys before commit), as Alembic's batch documentation asks.
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_help_requests_channel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_help_requests_channel'), check)


def upgrade() -> None:
    # Written from services.models.ConversationTurn, then checked against autogenerate
    # (tests/services/test_migrations.py).
    op.create_table('conversation_turns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=120), nullable=False),
    sa.Column('resident_id', sa.String(length=20), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=60), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('intent', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('text', 'speaker', 'phone', 'web')", name=op.f('ck_conversation_turns_channel')),
    sa.CheckConstraint("role IN ('elder', 'family', 'bot', 'operator', 'system')",
                       name=op.f('ck_conversation_turns_role')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_conversation_turns_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_turns'))
    )
    with op.batch_alter_table('conversation_turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_turns_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_turns_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_turns_resident_id'), ['resident_id'], unique=False)

    _help_channels(HELP_CHANNELS_AFTER)


def downgrade() -> None:
    # The narrower CHECK would refuse web help requests: they go back as text (the channel nearest to it).
    op.execute("UPDATE help_requests SET channel = 'text' WHERE channel = 'web'")
    _help_channels(HELP_CHANNELS_BEFORE)

    with op.batch_alter_table('conversation_turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_turns_resident_id'))
        batch_op.drop_index(batch_op.f('ix_conversation_turns_created_at'))
        batch_op.drop_index(batch_op.f('ix_conversation_turns_conversation_id'))
    op.drop_table('conversation_turns')
