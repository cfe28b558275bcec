"""thought records

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('thought_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('situation', sa.Text(), nullable=True),
    sa.Column('emotion', sa.Text(), nullable=True),
    sa.Column('emotion_before', sa.Integer(), nullable=True),
    sa.Column('thought', sa.Text(), nullable=True),
    sa.Column('belief_before', sa.Integer(), nullable=True),
    sa.Column('trap', sa.String(length=32), nullable=True),
    sa.Column('evidence_for', sa.Text(), nullable=True),
    sa.Column('evidence_against', sa.Text(), nullable=True),
    sa.Column('balanced_thought', sa.Text(), nullable=True),
    sa.Column('belief_after', sa.Integer(), nullable=True),
    sa.Column('emotion_after', sa.Integer(), nullable=True),
    sa.Column('next_step', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_thought_records_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thought_records'))
    )
    with op.batch_alter_table('thought_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thought_records_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('thought_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thought_records_patient_id'))

    op.drop_table('thought_records')
