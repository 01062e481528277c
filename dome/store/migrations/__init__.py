"""Alembic migration scripts for the store (see dome.store.migrate); env.py runs them."""
