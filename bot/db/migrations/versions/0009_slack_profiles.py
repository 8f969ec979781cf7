"""people's Slack profiles read ahead of time

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone_from_slack', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('deactivated', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('profile_checked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('profile_problem', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('profile_problem')
        batch_op.drop_column('profile_checked_at')
        batch_op.drop_column('deactivated')
        batch_op.drop_column('timezone_from_slack')
