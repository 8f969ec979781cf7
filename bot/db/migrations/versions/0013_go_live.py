"""when the schedule went live (an install or an import): nothing that fell due before it is sent

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'go_live',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('why', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_go_live')),
    )


def downgrade() -> None:
    op.drop_table('go_live')
