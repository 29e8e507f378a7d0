"""per-device end-of-speech settings

Revision ID: 0003_device_endpoint
Revises: 0002_speaker_devices
Create Date: 2026-11-23 13:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0003_device_endpoint'
down_revision: Union[str, None] = '0002_speaker_devices'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Nullable, no server default: existing speakers keep the gateway's configured values (NULL).
    # batch_alter_table so that SQLite, which cannot drop columns in place, can also go back down.
    with op.batch_alter_table('speaker_devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trailing_silence_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('max_utterance_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('no_speech_timeout_s', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('speaker_devices', schema=None) as batch_op:
        batch_op.drop_column('no_speech_timeout_s')
        batch_op.drop_column('max_utterance_s')
        batch_op.drop_column('trailing_silence_s')
