"""breathing sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('breathing_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('pattern', sa.String(length=16), nullable=False),
    sa.Column('planned_seconds', sa.Integer(), nullable=False),
    sa.Column('actual_seconds', sa.Integer(), nullable=True),
    sa.Column('completed', sa.Boolean(), nullable=True),
    sa.Column('tension_before', sa.Integer(), nullable=True),
    sa.Column('tension_after', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_breathing_sessions_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breathing_sessions'))
    )
    with op.batch_alter_table('breathing_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breathing_sessions_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('breathing_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breathing_sessions_patient_id'))

    op.drop_table('breathing_sessions')
