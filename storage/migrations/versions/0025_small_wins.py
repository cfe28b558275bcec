"""small wins, kept as said: their kind and the facts behind them

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'small_wins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('facts', sa.JSON(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=True),
        sa.Column('said_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['pacing_activities.id'], name=op.f('fk_small_wins_activity_id_pacing_activities'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_small_wins_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_small_wins')),
    )
    op.create_index(op.f('ix_small_wins_activity_id'), 'small_wins', ['activity_id'], unique=False)
    op.create_index(op.f('ix_small_wins_patient_id'), 'small_wins', ['patient_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_small_wins_patient_id'), table_name='small_wins')
    op.drop_index(op.f('ix_small_wins_activity_id'), table_name='small_wins')
    op.drop_table('small_wins')
