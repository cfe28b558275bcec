"""the clinicians' web dashboard: one-time sign-in links and sessions (token hashes only)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_links',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('clinician_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['clinician_id'], ['clinicians.id'], name=op.f('fk_web_links_clinician_id_clinicians')),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_links')),
    )
    op.create_index(op.f('ix_web_links_clinician_id'), 'web_links', ['clinician_id'], unique=False)
    op.create_table(
        'web_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('clinician_id', sa.Integer(), nullable=False),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['clinician_id'], ['clinicians.id'], name=op.f('fk_web_sessions_clinician_id_clinicians')),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_sessions')),
    )
    op.create_index(op.f('ix_web_sessions_clinician_id'), 'web_sessions', ['clinician_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_web_sessions_clinician_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index(op.f('ix_web_links_clinician_id'), table_name='web_links')
    op.drop_table('web_links')
