"""visit preparation

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('visit_preps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('changes', sa.Text(), nullable=True),
    sa.Column('goals', sa.Text(), nullable=True),
    sa.Column('questions', sa.Text(), nullable=True),
    sa.Column('treatment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_visit_preps_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_preps'))
    )
    with op.batch_alter_table('visit_preps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_preps_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('visit_preps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_preps_patient_id'))

    op.drop_table('visit_preps')
