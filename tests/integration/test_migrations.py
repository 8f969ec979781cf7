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


def test_adding_crm_id_keeps_every_deals_history(db_url):
    """0012 adds a column and a unique index: no table rebuild, whose DROP would cascade (SQLite, foreign keys on)."""
    import sqlalchemy as sa

    from bot.db.engine import make_engine

    eng = make_engine(db_url)
    upgrade(eng, "0011")
    with eng.begin() as c:
        c.execute(sa.text("insert into person (id, email, name, tier, timezone_from_slack, deactivated, created_at, "
                          "updated_at) values (1, 'a@x.io', 'A', 0, false, false, :t, :t)"), {"t": "2026-01-01"})
        c.execute(sa.text("insert into deal (id, ref, name, account, owner_id, amount, currency, stage, forecast, "
                          "next_step, lost_reason, stage_entered_at, created_at, updated_at) values (1, 'D-1', 'n', "
                          "'a', 1, 1, 'USD', 'target', 'pipeline', '', '', :t, :t, :t)"), {"t": "2026-01-01"})
        c.execute(sa.text("insert into stage_change (deal_id, from_stage, to_stage, changed_at, reason, "
                          "gate_overridden) values (1, null, 'target', :t, '', false)"), {"t": "2026-01-01"})
    upgrade(eng)
    with eng.connect() as c:
        assert c.execute(sa.text("select count(*) from stage_change")).scalar() == 1
        assert c.execute(sa.text("select crm_id from deal")).scalar() is None
    eng.dispose()
