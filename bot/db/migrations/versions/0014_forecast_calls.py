"""managers' calls for a forecast period (commit, best case), submitted up a tier and reviewed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 15:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'forecast_call',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=12), nullable=False),
        sa.Column('commit_amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('best_case_amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=True),
        sa.Column('review_comment', sa.Text(), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_forecast_call_author_id_person'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reviewer_id'], ['person.id'], name=op.f('fk_forecast_call_reviewer_id_person'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_call')),
    )
    op.create_index('ix_forecast_call_author_period', 'forecast_call', ['author_id', 'period'])
    op.create_index(op.f('ix_forecast_call_submitted_at'), 'forecast_call', ['submitted_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_forecast_call_submitted_at'), table_name='forecast_call')
    op.drop_index('ix_forecast_call_author_period', table_name='forecast_call')
    op.drop_table('forecast_call')
