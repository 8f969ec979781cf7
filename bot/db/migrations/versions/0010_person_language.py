"""each person's language: the one chosen, and the Slack profile's locale

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('person') as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('slack_locale', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('person') as batch_op:
        batch_op.drop_column('slack_locale')
        batch_op.drop_column('language')
