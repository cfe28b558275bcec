"""flare plans and episodes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('flare_episodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('peak_pain', sa.Integer(), nullable=True),
    sa.Column('what_helped', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_flare_episodes_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flare_episodes'))
    )
    with op.batch_alter_table('flare_episodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flare_episodes_patient_id'), ['patient_id'], unique=False)

    op.create_table('flare_plans',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('warning_signs', sa.Text(), nullable=True),
    sa.Column('what_helps', sa.Text(), nullable=True),
    sa.Column('step_back_from', sa.Text(), nullable=True),
    sa.Column('who_to_tell', sa.Text(), nullable=True),
    sa.Column('when_to_seek_care', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_flare_plans_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_flare_plans'))
    )


def downgrade() -> None:
    op.drop_table('flare_plans')
    with op.batch_alter_table('flare_episodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flare_episodes_patient_id'))

    op.drop_table('flare_episodes')
