"""prompt kinds (flare follow-ups) and when a prompt was started

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='checkin', nullable=False))
        batch_op.add_column(sa.Column('flare_episode_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_prompts_flare_episode_id_flare_episodes'), 'flare_episodes', ['flare_episode_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_prompts_flare_episode_id_flare_episodes'), type_='foreignkey')
        batch_op.drop_column('started_at')
        batch_op.drop_column('flare_episode_id')
        batch_op.drop_column('kind')

