"""patients' own words as text of any length, for encryption at rest

A Fernet token is longer than the words it holds, so the short VARCHAR(100) columns that take
what a patient (or the clinic, for the reference) typed, and button labels that may repeat it,
become TEXT like the others. Existing
values stay plain; `paincoach db rotate-key` encrypts them once PAINCOACH_DATA_KEY is set.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

COLUMNS = [('patients', 'preferred_name'), ('patients', 'clinic_reference'), ('pacing_activities', 'name'), ('invites', 'reference'),
           ('buttons', 'label')]  # a button can carry the patient's words (an activity they named)


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=100), type_=sa.Text())


def downgrade() -> None:
    # Only for plain-text databases: ciphertext does not fit back into 100 characters.
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=100))
