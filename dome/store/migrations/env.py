"""Alembic's entry point: runs the migrations on the connection `dome.store.migrate` hands
in (already inside the transaction that holds the migration lock). Nothing else.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection


def _run() -> None:
    if context.is_offline_mode():
        msg = "dome migrations run online only, through dome.store.migrate.upgrade"
        raise RuntimeError(msg)
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        msg = "dome migrations need a connection from dome.store.migrate.upgrade"
        raise TypeError(msg)
    # The caller's transaction makes the whole upgrade atomic; SQLite's DDL is
    # transactional too once BEGIN is ours (see dome.store.engine).
    context.configure(connection=connection, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


_run()
