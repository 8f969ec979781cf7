"""Alembic is the only way the schema changes: the migrations must build exactly the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.db.migrate import current_revision, head_revision, upgrade
from bot.db.models import Base


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_at_head(engine):
    upgrade(engine)
    assert current_revision(engine) == head_revision() is not None
