"""Alembic environment: runs on the connection Database.upgrade passes in, or on sqlalchemy.url."""

from alembic import context
from sqlalchemy import create_engine

from realeyes.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    with create_engine(config.get_main_option("sqlalchemy.url") or "").begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
