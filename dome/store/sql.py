"""`SqlStore`: the `Store` on SQLite or PostgreSQL through SQLAlchemy Core (async), and
`open_store`, which migrates before it connects. Config and key queries live here, audit
queries in `audit_sql`; no other package sees SQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dome.errors import ConflictError, NotFoundError
from dome.store import audit_sql
from dome.store.dialects import insert_ignoring_conflicts, integrity_errors, upsert
from dome.store.engine import WRITE_OPTION, create_async_engine, database_urls
from dome.store.migrate import upgrade_urls
from dome.store.records import (
    AgentRow,
    AgentStatus,
    AuditRow,
    ConfigRows,
    ModelRow,
    TenantRow,
    WorkspaceRow,
)
from dome.store.schema import agents, config_version, keys, models, tenants, workspaces

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


async def open_store(url: str, *, clock: Clock = utc_now) -> SqlStore:
    """Migrate the database at `url` to head (in a worker thread), then connect.

    Raises `dome.errors.ConfigError` for a URL we cannot use.
    """
    urls = database_urls(url)
    await asyncio.to_thread(upgrade_urls, urls)
    return SqlStore(create_async_engine(urls), clock=clock)


_AGENTS = select(
    agents.c.name,
    workspaces.c.name.label("workspace"),
    agents.c.token_hash,
    agents.c.token_prefix,
    agents.c.status,
    agents.c.created_at,
    agents.c.revoked_at,
).join_from(agents, workspaces, agents.c.workspace_id == workspaces.c.id)

_WORKSPACES = select(
    workspaces.c.name, tenants.c.name.label("tenant"), workspaces.c.created_at
).join_from(workspaces, tenants, workspaces.c.tenant_id == tenants.c.id)

_MODEL_COLUMNS = (
    "name",
    "provider",
    "model",
    "base_url",
    "auth_method",
    "credential_type",
    "credential",
    "options",
    "created_at",
    "updated_at",
)
_MODELS = select(*(models.c[name] for name in _MODEL_COLUMNS))


class SqlStore:
    """The `Store` over an async SQLAlchemy engine (see `open_store`).

    Every config write first locks the config_version row and bumps it before commit,
    so config writers run one at a time (SQLite: BEGIN IMMEDIATE does the same) and a
    check-then-write inside one is race-free.
    """

    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock
        self._dialect = engine.dialect.name
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        # load_config reads five tables, which must come from one snapshot; PostgreSQL's
        # default READ COMMITTED takes a new one per statement. SQLite's BEGIN (deferred,
        # in WAL mode) already reads from one snapshot.
        self._snapshot = (
            engine.execution_options(isolation_level="REPEATABLE READ")
            if self._dialect == "postgresql"
            else engine
        )

    async def close(self) -> None:
        await self._engine.dispose()

    # config

    async def config_version(self) -> int:
        async with self._engine.connect() as connection:
            return await _version(connection)

    async def load_config(self) -> ConfigRows:
        async with self._snapshot.begin() as connection:
            version = await _version(connection)
            tenant_rows = await connection.execute(
                select(tenants.c.name, tenants.c.created_at).order_by(tenants.c.name)
            )
            workspace_rows = await connection.execute(_WORKSPACES.order_by(workspaces.c.name))
            agent_rows = await connection.execute(_AGENTS.order_by(agents.c.name))
            model_rows = await connection.execute(_MODELS.order_by(models.c.name))
            return ConfigRows(
                version=version,
                tenants=tuple(TenantRow(**row) for row in tenant_rows.mappings()),
                workspaces=tuple(WorkspaceRow(**row) for row in workspace_rows.mappings()),
                agents=tuple(_agent(row) for row in agent_rows.mappings()),
                models=tuple(_model(row) for row in model_rows.mappings()),
            )

    async def create_tenant(self, name: str) -> TenantRow:
        now = self._now()
        with integrity_errors(conflict=f"tenant {name!r} already exists"):
            async with self._config_write() as connection:
                await connection.execute(insert(tenants).values(name=name, created_at=now))
                await _bump(connection)
        return TenantRow(name=name, created_at=now)

    async def create_workspace(self, name: str, tenant: str) -> WorkspaceRow:
        now = self._now()
        with integrity_errors(
            conflict=f"workspace {name!r} already exists",
            missing=f"tenant {tenant!r} not found",
        ):
            async with self._config_write() as connection:
                tenant_id = await _id_of(connection, tenants, "tenant", tenant)
                await connection.execute(
                    insert(workspaces).values(name=name, tenant_id=tenant_id, created_at=now)
                )
                await _bump(connection)
        return WorkspaceRow(name=name, tenant=tenant, created_at=now)

    async def create_agent(
        self, name: str, workspace: str, token_hash: str, token_prefix: str
    ) -> AgentRow:
        now = self._now()
        status: AgentStatus = "active"
        with integrity_errors(
            conflict=f"agent {name!r} already exists",
            missing=f"workspace {workspace!r} not found",
        ):
            async with self._config_write() as connection:
                workspace_id = await _id_of(connection, workspaces, "workspace", workspace)
                # Name and token hash are both unique. Checking the hash first (writers
                # are serialized) leaves the name as the only possible unique violation.
                taken = select(agents.c.id).where(agents.c.token_hash == token_hash)
                if await connection.scalar(taken) is not None:
                    raise ConflictError("an agent with this token already exists")
                await connection.execute(
                    insert(agents).values(
                        name=name,
                        workspace_id=workspace_id,
                        token_hash=token_hash,
                        token_prefix=token_prefix,
                        status=status,
                        created_at=now,
                    )
                )
                await _bump(connection)
        return AgentRow(name, workspace, token_hash, token_prefix, status, now)

    async def revoke_agent(self, name: str) -> AgentRow:
        """Revoke the agent; revoking a revoked agent changes nothing and returns it."""
        now = self._now()
        async with self._config_write() as connection:
            result = await connection.execute(
                update(agents)
                .where(agents.c.name == name, agents.c.status == "active")
                .values(status="revoked", revoked_at=now)
            )
            if result.rowcount:
                await _bump(connection)
            found = await connection.execute(_AGENTS.where(agents.c.name == name))
            row = found.mappings().first()
        if row is None:
            raise NotFoundError(f"agent {name!r} not found")
        return _agent(row)

    async def add_model(self, row: ModelRow) -> ModelRow:
        """Store a new model; the store stamps `created_at` and `updated_at`."""
        now = self._now()
        stored = replace(row, options=dict(row.options), created_at=now, updated_at=now)
        values = {name: getattr(stored, name) for name in _MODEL_COLUMNS}
        with integrity_errors(conflict=f"model {row.name!r} already exists"):
            async with self._config_write() as connection:
                await connection.execute(insert(models).values(**values))
                await _bump(connection)
        return stored

    async def remove_model(self, name: str) -> None:
        async with self._config_write() as connection:
            result = await connection.execute(delete(models).where(models.c.name == name))
            if not result.rowcount:
                raise NotFoundError(f"model {name!r} not found")
            await _bump(connection)

    async def set_model_credential(self, name: str, credential: bytes | None) -> ModelRow:
        now = self._now()
        async with self._config_write() as connection:
            result = await connection.execute(
                update(models)
                .where(models.c.name == name)
                .values(credential=credential, updated_at=now)
            )
            if not result.rowcount:
                raise NotFoundError(f"model {name!r} not found")
            await _bump(connection)
            found = await connection.execute(_MODELS.where(models.c.name == name))
            return _model(found.mappings().one())

    # keys

    async def get_key(self, name: str) -> bytes | None:
        async with self._engine.connect() as connection:
            value = await connection.scalar(select(keys.c.value).where(keys.c.name == name))
        return None if value is None else bytes(value)

    async def put_key_if_absent(self, name: str, value: bytes) -> bytes:
        """Store `value` unless the name exists; return what is stored (race-safe)."""
        insert_new = insert_ignoring_conflicts(self._dialect, keys, ["name"])
        async with self._writer.begin() as connection:
            # On PostgreSQL a racing INSERT waits for the first one to commit, then does
            # nothing; the SELECT after it (a new READ COMMITTED snapshot) sees the winner.
            await connection.execute(insert_new.values(name=name, value=value))
            stored = await connection.scalar(select(keys.c.value).where(keys.c.name == name))
        if stored is None:  # only if someone deleted the key between the two statements
            msg = f"key {name!r} vanished while being stored"
            raise RuntimeError(msg)
        return bytes(stored)

    async def replace_ciphertexts(
        self,
        models: Sequence[tuple[str, bytes | None]],
        keys: Sequence[tuple[str, bytes]],
    ) -> None:
        """Rewrite model credentials and key blobs in one transaction (key rotation).

        A model removed since the caller read it is skipped: it has nothing left to
        rewrite. A key name that does not exist yet is inserted, so a rotation may add a
        key blob.
        """
        if not models and not keys:
            return
        now = self._now()
        async with self._config_write() as connection:
            if models:
                await _replace_credentials(connection, models, now)
            if keys:
                await _replace_keys(connection, keys)
            await _bump(connection)

    # audit

    async def insert_audit(self, rows: Sequence[AuditRow]) -> None:
        if not rows:
            return
        async with self._writer.begin() as connection:
            await audit_sql.insert_audit(connection, rows)

    async def tail_audit(self, limit: int) -> list[AuditRow]:
        async with self._engine.connect() as connection:
            return await audit_sql.tail_audit(connection, limit)

    # internals

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            msg = "the store's clock returned a naive datetime"
            raise ValueError(msg)
        return now.astimezone(UTC)

    @asynccontextmanager
    async def _config_write(self) -> AsyncIterator[AsyncConnection]:
        async with self._writer.begin() as connection:
            # Lock the version row before anything else, so config writers queue here in
            # one order and cannot deadlock on each other's rows (PostgreSQL).
            await connection.execute(select(config_version.c.version).with_for_update())
            yield connection


async def _version(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(config_version.c.version)) or 0)


async def _bump(connection: AsyncConnection) -> None:
    await connection.execute(update(config_version).values(version=config_version.c.version + 1))


async def _id_of(connection: AsyncConnection, table: Table, kind: str, name: str) -> int:
    found = await connection.scalar(select(table.c.id).where(table.c.name == name))
    if found is None:
        raise NotFoundError(f"{kind} {name!r} not found")
    return int(found)


async def _replace_credentials(
    connection: AsyncConnection, rows: Sequence[tuple[str, bytes | None]], now: datetime
) -> None:
    statement = (
        update(models)
        .where(models.c.name == bindparam("target"))
        .values(credential=bindparam("new_credential"), updated_at=now)
    )
    await connection.execute(
        statement, [{"target": name, "new_credential": value} for name, value in rows]
    )


async def _replace_keys(connection: AsyncConnection, rows: Sequence[tuple[str, bytes]]) -> None:
    statement = upsert(connection.dialect.name, keys, ["name"], ["value"])
    await connection.execute(statement, [{"name": name, "value": value} for name, value in rows])


def _agent(row: RowMapping) -> AgentRow:
    return AgentRow(
        name=row["name"],
        workspace=row["workspace"],
        token_hash=row["token_hash"],
        token_prefix=row["token_prefix"],
        status=_status(row["status"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def _status(value: object) -> AgentStatus:
    if value == "active":
        return "active"
    if value == "revoked":
        return "revoked"
    msg = f"unknown agent status {value!r} in the database"
    raise ValueError(msg)


def _model(row: RowMapping) -> ModelRow:
    values = dict(row)
    credential = values["credential"]
    values["credential"] = None if credential is None else bytes(credential)
    return ModelRow(**values)
