"""one send budget shared by every bot process

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('send_budget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('next_free', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_send_budget'))
    )
    op.bulk_insert(sa.table("send_budget", sa.column("id", sa.Integer), sa.column("next_free", sa.Float)), [{"id": 1, "next_free": 0.0}])


def downgrade() -> None:
    op.drop_table('send_budget')
