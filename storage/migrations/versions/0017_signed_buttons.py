"""buttons are signed callback data: no row per button shown, a shared signing key instead

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('button_keys',
    sa.Column('version', sa.String(length=1), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_button_keys'))
    )
    # A direct question ("...thoughts of ending their life? Is that happening for you?") open now
    # stays open: its state moves from its button rows into the dialog's data, so a typed "yes"
    # still answers it. (Its buttons' old ids no longer mean anything; pressed, they read "This
    # button has expired" and the question is shown again, as every other button on screen.)
    buttons = sa.table('buttons', sa.column('patient_id', sa.Integer), sa.column('action', sa.String), sa.column('step', sa.Integer))
    states = sa.table('dialog_states', sa.column('patient_id', sa.Integer), sa.column('step', sa.Integer), sa.column('data', sa.JSON))
    connection = op.get_bind()
    open_questions = connection.execute(
        sa.select(states.c.patient_id, states.c.step, states.c.data)
        .where(sa.exists().where(buttons.c.patient_id == states.c.patient_id, buttons.c.action == 'direct',
                                 buttons.c.step == states.c.step))
    ).all()
    for patient_id, step, data in open_questions:
        connection.execute(states.update().where(states.c.patient_id == patient_id)
                           .values(data={**(data or {}), '_direct_question_at': step}))
    with op.batch_alter_table('buttons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buttons_patient_id'))
    op.drop_table('buttons')


def downgrade() -> None:
    op.create_table('buttons',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=True),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_buttons_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buttons'))
    )
    with op.batch_alter_table('buttons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buttons_patient_id'), ['patient_id'], unique=False)
    op.drop_table('button_keys')
