"""first tables: clinics, patients, dialogs, buttons, safety events

Revision ID: 0001
Revises: 
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa
from datetime import datetime, timezone


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clinics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('patients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('language_territory', sa.String(length=2), nullable=True),
    sa.Column('consent', sa.String(length=16), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('adult', sa.Boolean(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('preferred_name', sa.String(length=100), nullable=True),
    sa.Column('onboarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'external_id')
    )
    op.create_table('buttons',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=True),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('buttons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buttons_patient_id'), ['patient_id'], unique=False)

    op.create_table('dialog_states',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('dialog', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('stack', sa.JSON(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id')
    )
    op.create_table('pain_stories',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('where_it_hurts', sa.Text(), nullable=True),
    sa.Column('since_when', sa.Text(), nullable=True),
    sa.Column('what_makes_it_worse', sa.Text(), nullable=True),
    sa.Column('what_has_been_tried', sa.Text(), nullable=True),
    sa.Column('good_day', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id')
    )
    op.create_table('processed_updates',
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('update_id', sa.BigInteger(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source', 'update_id')
    )
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_updates_patient_id'), ['patient_id'], unique=False)

    op.create_table('safety_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('phrase', sa.String(length=200), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('dialog', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('safety_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_events_patient_id'), ['patient_id'], unique=False)
    # One default clinic from day one; its settings hold only overrides of the shipped defaults.
    clinics = sa.table("clinics", sa.column("name", sa.String), sa.column("is_default", sa.Boolean),
                       sa.column("settings", sa.JSON), sa.column("created_at", sa.DateTime(timezone=True)))
    op.bulk_insert(clinics, [{"name": "Default clinic", "is_default": True, "settings": {},
                              "created_at": datetime.now(timezone.utc)}])


def downgrade() -> None:
    with op.batch_alter_table('safety_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_events_patient_id'))

    op.drop_table('safety_events')
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_updates_patient_id'))

    op.drop_table('processed_updates')
    op.drop_table('pain_stories')
    op.drop_table('dialog_states')
    with op.batch_alter_table('buttons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buttons_patient_id'))

    op.drop_table('buttons')
    op.drop_table('patients')
    op.drop_table('clinics')
