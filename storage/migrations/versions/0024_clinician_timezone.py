"""a clinician's own time zone: every time they read is in it (their clinic's when unset)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clinicians', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clinicians', schema=None) as batch_op:
        batch_op.drop_column('timezone')
