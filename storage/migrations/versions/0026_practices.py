"""guided practices (muscle relaxation, mindfulness): each run with its ratings

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'practice_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('family', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('planned_seconds', sa.Integer(), nullable=False),
        sa.Column('actual_seconds', sa.Integer(), nullable=True),
        sa.Column('completed', sa.Boolean(), nullable=True),
        sa.Column('tension_before', sa.Integer(), nullable=True),
        sa.Column('tension_after', sa.Integer(), nullable=True),
        sa.Column('in_charge_before', sa.Integer(), nullable=True),
        sa.Column('in_charge_after', sa.Integer(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_practice_runs_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_runs')),
    )
    op.create_index(op.f('ix_practice_runs_patient_id'), 'practice_runs', ['patient_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_practice_runs_patient_id'), table_name='practice_runs')
    op.drop_table('practice_runs')
