"""notices to applicants (issue 14) and the time of 终审通过

Revision ID: app0009
Revises: app0008
Create Date: 2026-12-02 09:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import kit.db

revision = 'app0009'
down_revision = 'app0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('applications', sa.Column('approved_at', kit.db.UtcDateTime(timezone=True), nullable=True))
    op.create_table(
        'notices',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('application_id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('phone', sa.String(length=11), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id', 'kind', 'key', name='uq_notice_once'),
    )
    op.create_index('ix_notices_unsent', 'notices', ['sent_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notices_unsent', table_name='notices')
    op.drop_table('notices')
    op.drop_column('applications', 'approved_at')
