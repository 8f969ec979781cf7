"""each deal's id in the CRM it was imported from, unique, matched on re-import

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deal') as batch_op:
        batch_op.add_column(sa.Column('crm_id', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_deal_crm_id'), ['crm_id'])


def downgrade() -> None:
    with op.batch_alter_table('deal') as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_deal_crm_id'), type_='unique')
        batch_op.drop_column('crm_id')
