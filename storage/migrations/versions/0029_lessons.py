"""the pain education course: each patient's course (paused or not) and each lesson's progress

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'lesson_courses',
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('paused', sa.Boolean(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_lesson_courses_patient_id_patients'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_lesson_courses')),
    )
    op.create_table(
        'lesson_progress',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('lesson', sa.String(length=32), nullable=False),
        sa.Column('prompt_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=12), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answer', sa.String(length=32), nullable=True),
        sa.Column('correct', sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_lesson_progress_patient_id_patients'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['prompt_id'], ['prompts.id'], name=op.f('fk_lesson_progress_prompt_id_prompts'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_progress')),
        sa.UniqueConstraint('patient_id', 'lesson', name=op.f('uq_lesson_progress_patient_id')),
    )
    op.create_index(op.f('ix_lesson_progress_patient_id'), 'lesson_progress', ['patient_id'], unique=False)
    op.create_index(op.f('ix_lesson_progress_prompt_id'), 'lesson_progress', ['prompt_id'], unique=False)


def downgrade() -> None:
    # Lessons not yet sent go first: the code before this revision has no such kind to send.
    prompts = sa.table('prompts', sa.column('kind', sa.String), sa.column('status', sa.String), sa.column('sent_at', sa.DateTime))
    op.execute(prompts.delete().where(prompts.c.kind == 'lesson', prompts.c.sent_at.is_(None),
                                      prompts.c.status.in_(('scheduled', 'snoozed'))))
    op.drop_index(op.f('ix_lesson_progress_prompt_id'), table_name='lesson_progress')
    op.drop_index(op.f('ix_lesson_progress_patient_id'), table_name='lesson_progress')
    op.drop_table('lesson_progress')
    op.drop_table('lesson_courses')
