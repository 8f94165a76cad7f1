"""the trade's name on a case (the queue's Excel export, issue 14)

Revision ID: rev0006
Revises: rev0005
Create Date: 2026-12-01 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'rev0006'
down_revision = 'rev0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: cases submitted before it show the trade's code until their next submission
    op.add_column('cases', sa.Column('target_trade_name', sa.String(length=60), nullable=True))


def downgrade() -> None:
    op.drop_column('cases', 'target_trade_name')
