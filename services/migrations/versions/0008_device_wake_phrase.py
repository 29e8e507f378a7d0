"""a satellite's own wake phrase

Revision ID: 0008_device_wake_phrase
Revises: 0007_observations_care_signals
Create Date: 2026-12-04 19:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0008_device_wake_phrase'
down_revision: Union[str, None] = '0007_observations_care_signals'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # One nullable column (NULL: the recogniser language's default phrase): existing devices keep working.
    with op.batch_alter_table('speaker_devices') as batch:
        batch.add_column(sa.Column('wake_phrase', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('speaker_devices') as batch:
        batch.drop_column('wake_phrase')
