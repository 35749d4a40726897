"""Alembic's entry: migrate the sessions database at the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from copilot.sessions_db import SCHEMA

config = context.config
engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=list(SCHEMA), render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
