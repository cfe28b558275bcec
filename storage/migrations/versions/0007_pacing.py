"""pacing activities and logs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pacing_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('baseline_minutes', sa.Float(), nullable=True),
    sa.Column('quota_minutes', sa.Float(), nullable=True),
    sa.Column('next_raise_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_pacing_activities_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pacing_activities'))
    )
    with op.batch_alter_table('pacing_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pacing_activities_patient_id'), ['patient_id'], unique=False)

    op.create_table('pacing_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('quota_minutes', sa.Float(), nullable=True),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('logged_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['pacing_activities.id'], name=op.f('fk_pacing_logs_activity_id_pacing_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pacing_logs'))
    )
    with op.batch_alter_table('pacing_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pacing_logs_activity_id'), ['activity_id'], unique=False)
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pacing_activity_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_prompts_pacing_activity_id_pacing_activities'), 'pacing_activities',
                                    ['pacing_activity_id'], ['id'], ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_prompts_pacing_activity_id_pacing_activities'), type_='foreignkey')
        batch_op.drop_column('pacing_activity_id')
    with op.batch_alter_table('pacing_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pacing_logs_activity_id'))

    op.drop_table('pacing_logs')
    with op.batch_alter_table('pacing_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pacing_activities_patient_id'))

    op.drop_table('pacing_activities')
