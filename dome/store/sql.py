"""`SqlStore`: the `Store` on SQLite or PostgreSQL through SQLAlchemy Core (async), and
`open_store`, which migrates before it connects. The transactions and the key queries
live here; config queries in `config_sql`, pools in `pool_sql`, budgets in `budget_sql`,
audit in `audit_sql`, policy versions in `policy_sql`. No other package sees SQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Table, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dome.errors import ConflictError, NotFoundError
from dome.spend.ceilings import Metric, Period, ScopeKind
from dome.store import audit_sql, budget_sql, llm_calls_sql, policy_sql, pool_sql
from dome.store.config_sql import (
    AGENTS,
    MODEL_COLUMNS,
    MODELS,
    TENANTS,
    WORKSPACES,
    agent_row,
    bump,
    given,
    id_of,
    model_row,
    read_version,
    replace_credentials,
    replace_keys,
    update_named,
)
from dome.store.dialects import insert_ignoring_conflicts, integrity_errors
from dome.store.engine import WRITE_OPTION, create_async_engine, database_urls
from dome.store.llm_calls_sql import CallFilter, SpendDimension, SpendLine
from dome.store.migrate import upgrade_in_child
from dome.store.records import (
    UNSET,
    AgentRow,
    AgentStatus,
    AuditRow,
    BudgetRow,
    ChainedAuditRow,
    ConfigRows,
    ModelRow,
    PolicyRecord,
    PolicyVersion,
    PolicyVersionSummary,
    PoolRow,
    SealedAuditRow,
    TenantRow,
    Unset,
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
    await upgrade_in_child(urls, url)
    return SqlStore(create_async_engine(urls), clock=clock)


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
        # load_config reads many tables, which must come from one snapshot; PostgreSQL's
        # default READ COMMITTED takes a new one per statement. SQLite's BEGIN (deferred,
        # in WAL mode) already reads from one snapshot.
        self._snapshot = (
            engine.execution_options(isolation_level="REPEATABLE READ")
            if self._dialect == "postgresql"
            else engine
        )

    @property
    def engine(self) -> AsyncEngine:
        """The engine, for the SQL budget counters (dome.spend), which keep their own
        tables in the same database."""
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    # config

    async def config_version(self) -> int:
        async with self._engine.connect() as connection:
            return await read_version(connection)

    async def load_config(self) -> ConfigRows:
        async with self._snapshot.begin() as connection:
            version = await read_version(connection)
            tenant_rows = await connection.execute(TENANTS.order_by(tenants.c.name))
            workspace_rows = await connection.execute(WORKSPACES.order_by(workspaces.c.name))
            agent_rows = await connection.execute(AGENTS.order_by(agents.c.name))
            model_rows = await connection.execute(MODELS.order_by(models.c.name))
            return ConfigRows(
                version=version,
                tenants=tuple(TenantRow(**row) for row in tenant_rows.mappings()),
                workspaces=tuple(WorkspaceRow(**row) for row in workspace_rows.mappings()),
                agents=tuple(agent_row(row) for row in agent_rows.mappings()),
                models=tuple(model_row(row) for row in model_rows.mappings()),
                policies=await policy_sql.newest(connection),
                pools=await pool_sql.load_pools(connection),
                budgets=await budget_sql.load_budgets(connection),
            )

    async def create_tenant(self, name: str, *, region: str | None = None) -> TenantRow:
        now = self._now()
        with integrity_errors(conflict=f"tenant {name!r} already exists"):
            async with self._config_write() as connection:
                await connection.execute(
                    insert(tenants).values(name=name, created_at=now, region=region)
                )
                await bump(connection)
        return TenantRow(name=name, created_at=now, region=region)

    async def update_tenant(self, name: str, *, region: str | Unset | None = UNSET) -> TenantRow:
        """Change the region pin (None clears it); UNSET changes nothing."""
        row = await self._update(tenants, "tenant", name, given(region=region), TENANTS)
        return TenantRow(**row)

    async def create_workspace(
        self,
        name: str,
        tenant: str,
        *,
        residency: str = "",
        max_classification: str = "restricted",
        classification_default: str | None = None,
        classification_floor: str | None = None,
        region: str | None = None,
    ) -> WorkspaceRow:
        now = self._now()
        row = WorkspaceRow(
            name=name,
            tenant=tenant,
            created_at=now,
            residency=residency,
            max_classification=max_classification,
            classification_default=classification_default,
            classification_floor=classification_floor,
            region=region,
        )
        with integrity_errors(
            conflict=f"workspace {name!r} already exists",
            missing=f"tenant {tenant!r} not found",
        ):
            async with self._config_write() as connection:
                tenant_id = await id_of(connection, tenants, "tenant", tenant)
                values = {k: v for k, v in asdict(row).items() if k != "tenant"}
                await connection.execute(insert(workspaces).values(tenant_id=tenant_id, **values))
                await bump(connection)
        return row

    async def update_workspace(
        self,
        name: str,
        *,
        residency: str | Unset = UNSET,
        max_classification: str | Unset = UNSET,
        classification_default: str | Unset | None = UNSET,
        classification_floor: str | Unset | None = UNSET,
        region: str | Unset | None = UNSET,
    ) -> WorkspaceRow:
        """Change the given attributes; the others stay as they are."""
        values = given(
            residency=residency,
            max_classification=max_classification,
            classification_default=classification_default,
            classification_floor=classification_floor,
            region=region,
        )
        row = await self._update(workspaces, "workspace", name, values, WORKSPACES)
        return WorkspaceRow(**row)

    async def create_agent(
        self,
        name: str,
        workspace: str,
        token_hash: str,
        token_prefix: str,
        *,
        labels: Sequence[str] = (),
        classification_default: str | None = None,
        classification_floor: str | None = None,
    ) -> AgentRow:
        now = self._now()
        status: AgentStatus = "active"
        with integrity_errors(
            conflict=f"agent {name!r} already exists",
            missing=f"workspace {workspace!r} not found",
        ):
            async with self._config_write() as connection:
                workspace_id = await id_of(connection, workspaces, "workspace", workspace)
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
                        labels=list(labels),
                        classification_default=classification_default,
                        classification_floor=classification_floor,
                    )
                )
                await bump(connection)
        return AgentRow(
            name,
            workspace,
            token_hash,
            token_prefix,
            status,
            now,
            labels=tuple(labels),
            classification_default=classification_default,
            classification_floor=classification_floor,
        )

    async def update_agent(
        self,
        name: str,
        *,
        labels: Sequence[str] | Unset = UNSET,
        classification_default: str | Unset | None = UNSET,
        classification_floor: str | Unset | None = UNSET,
    ) -> AgentRow:
        """Change the given attributes (`labels` replaces the whole list)."""
        values = given(
            classification_default=classification_default,
            classification_floor=classification_floor,
        )
        if not isinstance(labels, Unset):
            values["labels"] = list(labels)
        return agent_row(await self._update(agents, "agent", name, values, AGENTS))

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
                await bump(connection)
            found = await connection.execute(AGENTS.where(agents.c.name == name))
            row = found.mappings().first()
        if row is None:
            raise NotFoundError(f"agent {name!r} not found")
        return agent_row(row)

    async def add_model(self, row: ModelRow) -> ModelRow:
        """Store a new model; the store stamps `created_at` and `updated_at`.

        Raises `ConflictError` when a model or a pool already has the name.
        """
        now = self._now()
        stored = replace(row, options=dict(row.options), created_at=now, updated_at=now)
        values = {name: getattr(stored, name) for name in MODEL_COLUMNS}
        with integrity_errors(conflict=f"model {row.name!r} already exists"):
            async with self._config_write() as connection:
                if await pool_sql.is_pool(connection, row.name):
                    msg = f"a pool is named {row.name!r}: {pool_sql.SHARED_NAMESPACE}"
                    raise ConflictError(msg)
                await connection.execute(insert(models).values(**values))
                await bump(connection)
        return stored

    async def update_model(
        self,
        name: str,
        *,
        region: str | Unset = UNSET,
        tier: str | Unset = UNSET,
        family: str | Unset | None = UNSET,
        input_price: str | Unset | None = UNSET,
        output_price: str | Unset | None = UNSET,
    ) -> ModelRow:
        """Change the given attributes and stamp `updated_at`; `family=None` goes back
        to deriving the family from the provider's model id, a price of None unprices."""
        values = given(
            region=region,
            tier=tier,
            family=family,
            input_price=input_price,
            output_price=output_price,
        )
        if values:
            values["updated_at"] = self._now()
        return model_row(await self._update(models, "model", name, values, MODELS))

    async def remove_model(self, name: str) -> None:
        """Remove the model; refused with `ConflictError` while it is a pool member."""
        async with self._config_write() as connection:
            model_id = await id_of(connection, models, "model", name)
            member_of = await pool_sql.pools_of_model(connection, model_id)
            if member_of:
                listed = ", ".join(repr(pool) for pool in member_of)
                msg = f"model {name!r} is a member of pool {listed}: remove it from there first"
                raise ConflictError(msg)
            await connection.execute(delete(models).where(models.c.id == model_id))
            await bump(connection)

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
            await bump(connection)
            found = await connection.execute(MODELS.where(models.c.name == name))
            return model_row(found.mappings().one())

    # pools

    async def create_pool(
        self,
        name: str,
        *,
        match_when: Mapping[str, Sequence[str]] | None = None,
        strategy: str = "priority",
        order: int = 0,
    ) -> PoolRow:
        """Store a pool without members; `match_when` as validated and normalized.

        Raises `ConflictError` when a pool or a model already has the name.
        """
        now = self._now()
        with integrity_errors(conflict=f"pool {name!r} already exists"):
            async with self._config_write() as connection:
                return await pool_sql.create_pool(
                    connection,
                    name,
                    match_when=match_when or {},
                    strategy=strategy,
                    order=order,
                    now=now,
                )

    async def update_pool(
        self,
        name: str,
        *,
        match_when: Mapping[str, Sequence[str]] | Unset = UNSET,
        strategy: str | Unset = UNSET,
        order: int | Unset = UNSET,
    ) -> PoolRow:
        values = given(match_when=match_when, strategy=strategy, order=order)
        async with self._config_write() as connection:
            return await pool_sql.update_pool(connection, name, values)

    async def remove_pool(self, name: str) -> None:
        """Remove the pool and its memberships (the models stay)."""
        async with self._config_write() as connection:
            await pool_sql.remove_pool(connection, name)

    async def add_pool_member(
        self, pool: str, model: str, *, priority: int = 0, weight: int = 1
    ) -> PoolRow:
        """Make `model` a member of `pool`; for a member, set its priority and weight."""
        async with self._config_write() as connection:
            return await pool_sql.put_member(
                connection, pool, model, priority=priority, weight=weight
            )

    async def remove_pool_member(self, pool: str, model: str) -> PoolRow:
        async with self._config_write() as connection:
            return await pool_sql.remove_member(connection, pool, model)

    # budgets

    async def set_budget(
        self, scope_kind: ScopeKind, scope_name: str, metric: Metric, period: Period, limit: Decimal
    ) -> BudgetRow:
        """Store the budget, or change the limit of the one with its scope, metric and
        period; the store stamps `created_at` (when new) and `updated_at`."""
        row = BudgetRow(scope_kind, scope_name, metric, period, limit)
        async with self._config_write() as connection:
            return await budget_sql.put_budget(connection, row, self._now())

    async def list_budgets(
        self, scope_kind: ScopeKind | None = None, scope_name: str | None = None
    ) -> list[BudgetRow]:
        async with self._engine.connect() as connection:
            return list(await budget_sql.load_budgets(connection, scope_kind, scope_name))

    async def remove_budget(
        self, scope_kind: ScopeKind, scope_name: str, metric: Metric, period: Period
    ) -> None:
        async with self._config_write() as connection:
            await budget_sql.remove_budget(connection, scope_kind, scope_name, metric, period)

    # policies

    async def publish_policies(self, policies: Sequence[PolicyRecord], note: str) -> int:
        """Store `policies` as the next version, which is then in force; return its number.

        Runs under the config lock, so concurrent publishers get distinct, consecutive
        versions, and bumps the config version so every process reloads.
        """
        now = self._now()
        async with self._config_write() as connection:
            version = await policy_sql.publish(connection, policies, note, now)
            await bump(connection)
        return version

    async def policy_versions(self) -> list[PolicyVersionSummary]:
        """Every published version, newest first, without the policy text."""
        async with self._engine.connect() as connection:
            return await policy_sql.summaries(connection)

    async def policy_version(self, version: int) -> PolicyVersion | None:
        async with self._engine.connect() as connection:
            return await policy_sql.one(connection, version)

    async def current_policies(self) -> PolicyVersion | None:
        """The newest version (the one in force), or None before the first publish."""
        async with self._engine.connect() as connection:
            return await policy_sql.newest(connection)

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
                await replace_credentials(connection, models, now)
            if keys:
                await replace_keys(connection, keys)
            await bump(connection)

    # audit

    async def insert_audit(self, rows: Sequence[SealedAuditRow]) -> None:
        if not rows:
            return
        async with self._writer.begin() as connection:
            await audit_sql.insert_audit(connection, rows)

    async def tail_audit(self, limit: int) -> list[AuditRow]:
        async with self._engine.connect() as connection:
            return await audit_sql.tail_audit(connection, limit)

    async def call_records(self, call_id: str) -> list[AuditRow]:
        async with self._engine.connect() as connection:
            return await audit_sql.call_records(connection, call_id)

    async def chained_records(
        self, after: tuple[str, int] | None, limit: int
    ) -> list[ChainedAuditRow]:
        async with self._engine.connect() as connection:
            return await audit_sql.chained_records(connection, after, limit)

    async def ended_calls(self, call_ids: Sequence[str]) -> set[str]:
        async with self._engine.connect() as connection:
            return await audit_sql.ended_calls(connection, call_ids)

    async def unchained_count(self) -> int:
        async with self._engine.connect() as connection:
            return await audit_sql.unchained_count(connection)

    async def chain_heads(self) -> dict[str, tuple[int, str]]:
        async with self._engine.connect() as connection:
            return await audit_sql.chain_heads(connection)

    async def query_calls(self, where: CallFilter, limit: int) -> list[dict[str, Any]]:
        async with self._engine.connect() as connection:
            return await llm_calls_sql.query_calls(connection, where, limit)

    async def spend_report(self, by: SpendDimension, where: CallFilter) -> list[SpendLine]:
        async with self._engine.connect() as connection:
            return await llm_calls_sql.spend_report(connection, by, where)

    async def recent_decisions(self, limit: int) -> list[AuditRow]:
        """The newest audit rows that carry a policy decision, newest first."""
        async with self._engine.connect() as connection:
            return await audit_sql.recent_decisions(connection, limit)

    # internals

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            msg = "the store's clock returned a naive datetime"
            raise ValueError(msg)
        return now.astimezone(UTC)

    async def _update(
        self, table: Table, kind: str, name: str, values: dict[str, Any], read: Select[Any]
    ) -> RowMapping:
        async with self._config_write() as connection:
            return await update_named(connection, table, kind, name, values, read)

    @asynccontextmanager
    async def _config_write(self) -> AsyncIterator[AsyncConnection]:
        async with self._writer.begin() as connection:
            # Lock the version row before anything else, so config writers queue here in
            # one order and cannot deadlock on each other's rows (PostgreSQL).
            await connection.execute(select(config_version.c.version).with_for_update())
            yield connection
