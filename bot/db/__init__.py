"""Storage: typed ORM models, repositories and session handling (Alembic beside it)."""
