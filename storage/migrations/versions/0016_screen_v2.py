"""safety events record where a finding came from and which model version scored it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('safety_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('model_version', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('model_score', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('safety_events', schema=None) as batch_op:
        batch_op.drop_column('model_score')
        batch_op.drop_column('model_version')
        batch_op.drop_column('source')
