"""the inbox as a queue worked one chat at a time: each update's chat, and one lease per chat naming the
process that works it (bot/inbox.py). Updates stored before this revision have no chat: handled as before.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_id', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_inbox_chat_id_update_id', ['chat_id', 'update_id'], unique=False)
    op.create_table(
        'chat_leases',
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('holder', sa.String(length=64), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('chat_id', name=op.f('pk_chat_leases')),
    )


def downgrade() -> None:
    op.drop_table('chat_leases')
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_chat_id_update_id')
        batch_op.drop_column('chat_id')
