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
    # What the code before this revision cannot handle goes first: the sleep diary's schedules, the
    # diary in a sitting not yet sent, wind-down nudges not yet sent; and the daily cap's `capped`
    # (a status the older code does not know) becomes `expired`, its reason kept.
    schedules = sa.table('schedules', sa.column('instrument', sa.String))
    prompts = sa.table('prompts', sa.column('id', sa.Integer), sa.column('kind', sa.String), sa.column('status', sa.String),
                       sa.column('sent_at', sa.DateTime), sa.column('instruments', sa.JSON))
    unsent = sa.and_(prompts.c.sent_at.is_(None), prompts.c.status.in_(('scheduled', 'snoozed')))
    op.execute(schedules.delete().where(schedules.c.instrument == 'sleep_diary'))
    op.execute(prompts.delete().where(prompts.c.kind == 'wind_down', unsent))
    connection = op.get_bind()
    for prompt_id, instruments in connection.execute(sa.select(prompts.c.id, prompts.c.instruments).where(prompts.c.kind == 'checkin', unsent)).all():
        if 'sleep_diary' not in (instruments or []):
            continue
        kept = [instrument for instrument in instruments if instrument != 'sleep_diary']
        if kept:
            connection.execute(prompts.update().where(prompts.c.id == prompt_id).values(instruments=kept))
        else:
            connection.execute(prompts.delete().where(prompts.c.id == prompt_id))
    op.execute(prompts.update().where(prompts.c.status == 'capped').values(status='expired'))
    op.drop_table('sleep_routines')
