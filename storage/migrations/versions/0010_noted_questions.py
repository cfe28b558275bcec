"""noted medication questions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('noted_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('noted', sa.Boolean(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_noted_questions_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_noted_questions'))
    )
    with op.batch_alter_table('noted_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_noted_questions_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('noted_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_noted_questions_patient_id'))

    op.drop_table('noted_questions')
