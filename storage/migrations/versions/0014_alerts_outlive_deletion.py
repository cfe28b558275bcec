"""alerts outlive a patient's deletion: the link is cleared, the study code kept

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('study_code', sa.String(length=12), nullable=True))
        batch_op.alter_column('patient_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.drop_constraint(batch_op.f('fk_alerts_patient_id_patients'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_alerts_patient_id_patients'), 'patients', ['patient_id'], ['id'], ondelete='SET NULL')
    op.execute("UPDATE alerts SET study_code = (SELECT study_code FROM patients WHERE patients.id = alerts.patient_id)")



def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alerts_patient_id_patients'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_alerts_patient_id_patients'), 'patients', ['patient_id'], ['id'], ondelete='CASCADE')
        batch_op.alter_column('patient_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('study_code')

