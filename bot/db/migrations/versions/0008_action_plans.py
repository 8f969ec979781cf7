"""action plans agreed in the Monday team meeting; forecast reviews

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 12:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('action_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('who', sa.String(length=200), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('agreed_by_id', sa.Integer(), nullable=True),
    sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=True),
    sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agreed_by_id'], ['person.id'], name=op.f('fk_action_plan_agreed_by_id_person'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], name=op.f('fk_action_plan_deal_id_deal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_plan'))
    )
    with op.batch_alter_table('action_plan') as batch:
        batch.create_index(batch.f('ix_action_plan_deal_id'), ['deal_id'], unique=False)
    op.create_table('forecast_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('forecast', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('won', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('wrong', sa.Text(), nullable=False),
    sa.Column('unknown', sa.Text(), nullable=False),
    sa.Column('misled', sa.Text(), nullable=False),
    sa.Column('next_steps', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_forecast_review_author_id_person'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_review')),
    sa.UniqueConstraint('author_id', 'week', name='uq_forecast_review_author_week')
    )
    with op.batch_alter_table('forecast_review') as batch:
        batch.create_index(batch.f('ix_forecast_review_week'), ['week'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('forecast_review') as batch:
        batch.drop_index(batch.f('ix_forecast_review_week'))
    op.drop_table('forecast_review')
    with op.batch_alter_table('action_plan') as batch:
        batch.drop_index(batch.f('ix_action_plan_deal_id'))
    op.drop_table('action_plan')
