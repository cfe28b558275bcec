"""alert episodes: further messages join the open alert; escalation repeats; every copy is edited
once acknowledged

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

FIRST_ESCALATION = timedelta(minutes=15)  # the shipped alert_escalate_minutes, for alerts raised before


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_count', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_actor', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('escalations', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('escalation_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_alerts_escalation_due_at'), ['escalation_due_at'], unique=False)
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shown_count', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('acknowledged_shown_at', sa.DateTime(timezone=True), nullable=True))

    alerts = sa.table('alerts', sa.column('id', sa.Integer()), sa.column('created_at', sa.DateTime(timezone=True)),
                      sa.column('last_message_at', sa.DateTime(timezone=True)), sa.column('acknowledged_at', sa.DateTime(timezone=True)),
                      sa.column('acknowledged_by', sa.Integer()), sa.column('acknowledged_actor', sa.String()),
                      sa.column('escalated_at', sa.DateTime(timezone=True)), sa.column('escalations', sa.Integer()),
                      sa.column('escalation_due_at', sa.DateTime(timezone=True)))
    deliveries = sa.table('alert_deliveries', sa.column('alert_id', sa.Integer()), sa.column('sent_at', sa.DateTime(timezone=True)),
                          sa.column('acknowledged_shown_at', sa.DateTime(timezone=True)))
    op.execute(alerts.update().values(last_message_at=alerts.c.created_at))
    op.execute(alerts.update().where(alerts.c.acknowledged_by.is_not(None))
               .values(acknowledged_actor=sa.literal('clinician:') + sa.cast(alerts.c.acknowledged_by, sa.String())))
    # An alert already escalated keeps the one round it had; one not yet escalated gets its first
    # round at the shipped default time (the clinic's own setting counts from its next alert).
    op.execute(alerts.update().where(alerts.c.escalated_at.is_not(None)).values(escalations=1))
    connection = op.get_bind()
    for alert_id, created_at in connection.execute(
        sa.select(alerts.c.id, alerts.c.created_at).where(alerts.c.acknowledged_at.is_(None), alerts.c.escalated_at.is_(None))
    ).all():
        connection.execute(alerts.update().where(alerts.c.id == alert_id).values(escalation_due_at=created_at + FIRST_ESCALATION))
    # Copies of alerts acknowledged before keep their old button; a press on it says who acknowledged
    # it. They are not edited now, in a burst, long after the fact.
    acknowledged = sa.select(alerts.c.id).where(alerts.c.acknowledged_at.is_not(None))
    op.execute(deliveries.update().where(deliveries.c.alert_id.in_(acknowledged), deliveries.c.sent_at.is_not(None))
               .values(acknowledged_shown_at=deliveries.c.sent_at))


def downgrade() -> None:
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_column('acknowledged_shown_at')
        batch_op.drop_column('shown_count')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_escalation_due_at'))
        batch_op.drop_column('escalation_due_at')
        batch_op.drop_column('escalations')
        batch_op.drop_column('acknowledged_note')
        batch_op.drop_column('acknowledged_actor')
        batch_op.drop_column('last_message_at')
        batch_op.drop_column('message_count')
