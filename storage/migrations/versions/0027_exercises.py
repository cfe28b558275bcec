"""home exercises as prescribed by the clinic, and the patient's log of each

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'exercises',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('sets', sa.Integer(), nullable=True),
        sa.Column('reps', sa.Integer(), nullable=True),
        sa.Column('minutes', sa.Integer(), nullable=True),
        sa.Column('days_per_week', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('progression', sa.String(length=8), nullable=False),
        sa.Column('prescribed_by', sa.String(length=64), nullable=False),
        sa.Column('prescribed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_exercises_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exercises')),
    )
    op.create_index(op.f('ix_exercises_patient_id'), 'exercises', ['patient_id'], unique=False)
    op.create_table(
        'exercise_logs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('exercise_id', sa.Integer(), nullable=False),
        sa.Column('local_date', sa.Date(), nullable=False),
        sa.Column('outcome', sa.String(length=8), nullable=False),
        sa.Column('dose', sa.Float(), nullable=True),
        sa.Column('pain_before', sa.Integer(), nullable=True),
        sa.Column('pain_after', sa.Integer(), nullable=True),
        sa.Column('logged_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['exercise_id'], ['exercises.id'], name=op.f('fk_exercise_logs_exercise_id_exercises'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_logs')),
    )
    op.create_index(op.f('ix_exercise_logs_exercise_id'), 'exercise_logs', ['exercise_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_exercise_logs_exercise_id'), table_name='exercise_logs')
    op.drop_table('exercise_logs')
    op.drop_index(op.f('ix_exercises_patient_id'), table_name='exercises')
    op.drop_table('exercises')
