"""who confirmed each characteristic and answered each evaluation item

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 11:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('confirmed_characteristic') as batch:
        batch.add_column(sa.Column('confirmed_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_confirmed_characteristic_confirmed_by_id_person'), 'person',
                                 ['confirmed_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('evaluation_answer') as batch:
        batch.add_column(sa.Column('answered_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_evaluation_answer_answered_by_id_person'), 'person',
                                 ['answered_by_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('evaluation_answer') as batch:
        batch.drop_constraint(op.f('fk_evaluation_answer_answered_by_id_person'), type_='foreignkey')
        batch.drop_column('answered_by_id')
    with op.batch_alter_table('confirmed_characteristic') as batch:
        batch.drop_constraint(op.f('fk_confirmed_characteristic_confirmed_by_id_person'), type_='foreignkey')
        batch.drop_column('confirmed_by_id')
