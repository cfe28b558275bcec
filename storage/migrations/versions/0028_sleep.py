"""sleep routines: wake time, bedtime, wind-down and daylight steps, the optional wind-down nudge

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sleep_routines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('wake_time', sa.String(length=5), nullable=False),
        sa.Column('bedtime', sa.String(length=5), nullable=False),
        sa.Column('wind_down', sa.JSON(), nullable=False),
        sa.Column('daylight', sa.String(length=24), nullable=True),
        sa.Column('nudge_minutes', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_sleep_routines_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sleep_routines')),
        sa.UniqueConstraint('patient_id', name=op.f('uq_sleep_routines_patient_id')),
    )


def downgrade() -> None:
    op.drop_table('sleep_routines')
