"""a data key per person (envelope encryption); dialog state and the inbox encrypted like text

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# JSON that may hold a patient's words, now stored as (encrypted) text: what is there stays
# readable as it is, plain JSON, until `paincoach db rotate-key` encrypts it.
NOW_TEXT = [('dialog_states', 'data'), ('dialog_states', 'stack'), ('inbox', 'payload')]


def upgrade() -> None:
    op.create_table('data_keys',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('wrapped', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_keys')),
    sa.UniqueConstraint('channel', 'external_id', name=op.f('uq_data_keys_channel'))
    )
    for table, column in NOW_TEXT:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=False,
                                  postgresql_using=f'{column}::text')


def downgrade() -> None:
    # Fails while these columns hold encrypted values, which are no JSON.
    for table, column in NOW_TEXT:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.JSON(), existing_nullable=False,
                                  postgresql_using=f'{column}::json')
    op.drop_table('data_keys')
