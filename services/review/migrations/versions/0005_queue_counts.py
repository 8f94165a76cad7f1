"""the queue's totals kept by a trigger (queue_counts, queue_count_deltas); covering indexes
for deep pages of "all"

Revision ID: rev0005
Revises: rev0004
Create Date: 2026-11-29 08:40:00
"""
import sqlalchemy as sa
from alembic import op

from services.review.models import FOLD_QUEUE_COUNTS, QUEUE_COUNT_TRIGGER, QUEUE_KEY

revision = 'rev0005'
down_revision = 'rev0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'queue_counts',
        sa.Column('city_code', sa.String(length=6), nullable=False),
        sa.Column('county_code', sa.String(length=6), nullable=False),
        sa.Column('supervisor_id', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('current_level', sa.String(length=20), nullable=False),
        sa.Column('target_grade', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*QUEUE_KEY))
    op.create_table(
        'queue_count_deltas',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('city_code', sa.String(length=6), nullable=False),
        sa.Column('county_code', sa.String(length=6), nullable=False),
        sa.Column('supervisor_id', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('current_level', sa.String(length=20), nullable=False),
        sa.Column('target_grade', sa.Integer(), nullable=False),
        sa.Column('delta', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.drop_index('ix_cases_queue_all', table_name='cases')
    op.create_index('ix_cases_queue_all', 'cases', ['submitted_at', 'application_id'], unique=False,
                    postgresql_include=['status'])
    op.create_index('ix_cases_queue_city_all', 'cases', ['city_code', 'submitted_at', 'application_id'],
                    unique=False, postgresql_include=['status'])
    if op.get_bind().dialect.name == 'postgresql':
        for statement in QUEUE_COUNT_TRIGGER:
            op.execute(statement)
        # the cases already there, as deltas (the trigger's own form), folded at once
        op.execute("INSERT INTO queue_count_deltas (city_code, county_code, supervisor_id, status, current_level, "
                   "target_grade, delta) SELECT city_code, coalesce(county_code, ''), coalesce(supervisor_id, ''), "
                   "status, coalesce(current_level, ''), target_grade, count(*) FROM cases GROUP BY 1, 2, 3, 4, 5, 6")
        op.execute(FOLD_QUEUE_COUNTS)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS cases_queue_count ON cases")
        op.execute("DROP FUNCTION IF EXISTS review_queue_count()")
    op.drop_index('ix_cases_queue_city_all', table_name='cases')
    op.drop_index('ix_cases_queue_all', table_name='cases')
    op.create_index('ix_cases_queue_all', 'cases', ['submitted_at', 'application_id'], unique=False)
    op.drop_table('queue_count_deltas')
    op.drop_table('queue_counts')
