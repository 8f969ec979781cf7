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


# A plain ADD COLUMN and a unique index: a unique constraint would make SQLite rebuild the deal table
# (batch mode), and with foreign keys on, the rebuild's DROP TABLE cascades to every deal's history.


def upgrade() -> None:
    op.add_column('deal', sa.Column('crm_id', sa.String(length=200), nullable=True))
    op.create_index(op.f('ix_deal_crm_id'), 'deal', ['crm_id'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_deal_crm_id'), table_name='deal')
    op.drop_column('deal', 'crm_id')  # native on SQLite 3.35+, so no rebuild either
