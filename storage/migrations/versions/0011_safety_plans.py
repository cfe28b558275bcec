"""safety plans

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('safety_plans',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('warning_signs', sa.Text(), nullable=True),
    sa.Column('what_helps', sa.Text(), nullable=True),
    sa.Column('people', sa.Text(), nullable=True),
    sa.Column('safe_places', sa.Text(), nullable=True),
    sa.Column('professionals', sa.Text(), nullable=True),
    sa.Column('safer_surroundings', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_safety_plans_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_safety_plans'))
    )


def downgrade() -> None:
    op.drop_table('safety_plans')
