"""web accounts, sessions and sign-in attempts

Revision ID: 0005_web_accounts
Revises: 0004_call_records
Create Date: 2026-11-24 09:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0005_web_accounts'
down_revision: Union[str, None] = '0004_call_records'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Written from services.models (Account, WebSession, LoginAttempt, FamilyMember.account_id), then
    # checked against autogenerate (tests/services/test_migrations.py).
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('display_name', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('operator_id', sa.String(length=20), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reset_code_hash', sa.String(length=255), nullable=True),
    sa.Column('reset_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('family', 'operator')", name=op.f('ck_accounts_kind')),
    sa.CheckConstraint("(kind = 'family' AND operator_id IS NULL) OR (kind = 'operator' AND operator_id IS NOT NULL)",
                       name=op.f('ck_accounts_operator_link')),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_accounts_operator_id_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('operator_id', name=op.f('uq_accounts_operator_id')),
    sa.UniqueConstraint('username', name=op.f('uq_accounts_username'))
    )
    op.create_table('web_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_web_sessions_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_account_id'), ['account_id'], unique=False)

    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_ip'), ['ip'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_username'), ['username'], unique=False)

    # family_members.account_id: a nullable column with its foreign key. SQLite's batch mode would copy
    # family_members to add the key, and dropping the old copy trips the foreign keys of call_requests and
    # call_records that point at it; SQLite can add a column with its (named) key in place instead.
    if op.get_context().dialect.name == 'sqlite':
        op.execute('ALTER TABLE family_members ADD COLUMN account_id INTEGER '
                   'CONSTRAINT fk_family_members_account_id_accounts REFERENCES accounts (id)')
    else:
        op.add_column('family_members', sa.Column('account_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_family_members_account_id_accounts'), 'family_members', 'accounts',
                              ['account_id'], ['id'])
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_members_account_id'), ['account_id'], unique=False)
        batch_op.create_index('uq_family_members_account_resident', ['account_id', 'resident_id'], unique=True)


def downgrade() -> None:
    # SQLite cannot drop a column that is a foreign key in place, so batch mode copies family_members; with
    # foreign keys on, that fails (and rolls back) while call requests or call records point at family rows.
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.drop_index('uq_family_members_account_resident')
        batch_op.drop_index(batch_op.f('ix_family_members_account_id'))
        if op.get_context().dialect.name != 'sqlite':  # SQLite reflects the in-place key without its name
            batch_op.drop_constraint(batch_op.f('fk_family_members_account_id_accounts'), type_='foreignkey')
        batch_op.drop_column('account_id')

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_username'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_ip'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_at'))
    op.drop_table('login_attempts')

    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_account_id'))
    op.drop_table('web_sessions')
    op.drop_table('accounts')
