"""exchange rates, each manager's reporting currency, forecast sign-off

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('exchange_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('from_currency', sa.String(length=3), nullable=False),
    sa.Column('to_currency', sa.String(length=3), nullable=False),
    sa.Column('rate', sa.Numeric(precision=24, scale=10), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_rate')),
    sa.UniqueConstraint('valid_from', 'from_currency', 'to_currency', name='uq_exchange_rate_day_pair')
    )
    with op.batch_alter_table('person') as batch:
        batch.add_column(sa.Column('reporting_currency', sa.String(length=3), nullable=True))
    with op.batch_alter_table('manager_comment') as batch:
        batch.add_column(sa.Column('signed_off_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('manager_comment') as batch:
        batch.drop_column('signed_off_at')
    with op.batch_alter_table('person') as batch:
        batch.drop_column('reporting_currency')
    op.drop_table('exchange_rate')
