"""the audit log's filters (issue 14): the actor's city, and indexes ending with the list's order

Revision ID: ide0005
Revises: ide0004
Create Date: 2026-12-01 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'ide0005'
down_revision = 'ide0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('audit_log', sa.Column('actor_city', sa.String(length=6), nullable=True))
    # the entries so far: the city of the administrator who acted (identity's own admins table)
    op.execute("UPDATE audit_log SET actor_city = (SELECT admins.scope_city FROM admins "
               "WHERE admins.username = audit_log.actor)")
    op.create_index('ix_audit_log_actor', 'audit_log', ['actor', 'at', 'id'], unique=False)
    op.create_index('ix_audit_log_action', 'audit_log', ['action', 'at', 'id'], unique=False)
    op.create_index('ix_audit_log_actor_city', 'audit_log', ['actor_city', 'at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_log_actor_city', table_name='audit_log')
    op.drop_index('ix_audit_log_action', table_name='audit_log')
    op.drop_index('ix_audit_log_actor', table_name='audit_log')
    op.drop_column('audit_log', 'actor_city')
