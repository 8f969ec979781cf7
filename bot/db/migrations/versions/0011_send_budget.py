"""the send budget shared by every instance: the next free slot and the pause after a 429

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'send_budget',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('next_slot', sa.Double(), nullable=False),
        sa.Column('paused_until', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_send_budget')),
    )


def downgrade() -> None:
    op.drop_table('send_budget')
