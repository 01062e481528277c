"""Pool queries: read pools with their members, create, change and remove them, and the
name checks that keep pool and model names in one namespace. Plain functions over a
connection; `SqlStore` owns the transactions and the config lock, under which every
check-then-write here is race-free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from dome.errors import ConflictError, NotFoundError
from dome.store.config_sql import bump, id_of, update_named
from dome.store.dialects import upsert
from dome.store.records import PoolMemberRow, PoolRow
from dome.store.schema import models, pool_members, pools

SHARED_NAMESPACE = "pool and model names share one namespace"

_POOLS = select(
    pools.c.id,
    pools.c.name,
    pools.c.match_when,
    pools.c.strategy,
    pools.c.sort_order,
    pools.c.created_at,
)
_MEMBERS = select(
    pool_members.c.pool_id,
    models.c.name.label("model"),
    pool_members.c.priority,
    pool_members.c.weight,
).join_from(pool_members, models, pool_members.c.model_id == models.c.id)


async def load_pools(connection: AsyncConnection) -> tuple[PoolRow, ...]:
    """Every pool with its members, pools by (order, name), members by (priority, model)."""
    found = await connection.execute(_POOLS.order_by(pools.c.sort_order, pools.c.name))
    return await _with_members(connection, list(found.mappings()))


async def read_pool(connection: AsyncConnection, name: str) -> PoolRow:
    found = await connection.execute(_POOLS.where(pools.c.name == name))
    row = found.mappings().first()
    if row is None:
        raise NotFoundError(f"pool {name!r} not found")
    (pool,) = await _with_members(connection, [row])
    return pool


async def create_pool(
    connection: AsyncConnection,
    name: str,
    *,
    match_when: Mapping[str, Sequence[str]],
    strategy: str,
    order: int,
    now: datetime,
) -> PoolRow:
    """Insert the pool; the caller turns a unique violation into a conflict."""
    if await connection.scalar(select(models.c.id).where(models.c.name == name)) is not None:
        raise ConflictError(f"a model is named {name!r}: {SHARED_NAMESPACE}")
    await connection.execute(
        insert(pools).values(
            name=name,
            match_when=_as_json(match_when),
            strategy=strategy,
            sort_order=order,
            created_at=now,
        )
    )
    await bump(connection)
    return PoolRow(name, _as_json(match_when), strategy, order, (), now)


async def update_pool(connection: AsyncConnection, name: str, values: dict[str, Any]) -> PoolRow:
    """Change the given columns (`order` is stored as `sort_order`), bump if it exists."""
    columns = {("sort_order" if key == "order" else key): value for key, value in values.items()}
    if "match_when" in columns:
        columns["match_when"] = _as_json(columns["match_when"])
    await update_named(connection, pools, "pool", name, columns, _POOLS)
    return await read_pool(connection, name)


async def remove_pool(connection: AsyncConnection, name: str) -> None:
    pool_id = await id_of(connection, pools, "pool", name)
    await connection.execute(delete(pool_members).where(pool_members.c.pool_id == pool_id))
    await connection.execute(delete(pools).where(pools.c.id == pool_id))
    await bump(connection)


async def put_member(
    connection: AsyncConnection, pool: str, model: str, *, priority: int, weight: int
) -> PoolRow:
    """Add `model` to `pool`, or change its priority and weight when it is a member."""
    pool_id = await id_of(connection, pools, "pool", pool)
    model_id = await id_of(connection, models, "model", model)
    statement = upsert(
        connection.dialect.name, pool_members, ["pool_id", "model_id"], ["priority", "weight"]
    )
    await connection.execute(
        statement,
        {"pool_id": pool_id, "model_id": model_id, "priority": priority, "weight": weight},
    )
    await bump(connection)
    return await read_pool(connection, pool)


async def remove_member(connection: AsyncConnection, pool: str, model: str) -> PoolRow:
    pool_id = await id_of(connection, pools, "pool", pool)
    model_id = await connection.scalar(select(models.c.id).where(models.c.name == model))
    result = await connection.execute(
        delete(pool_members).where(
            pool_members.c.pool_id == pool_id, pool_members.c.model_id == model_id
        )
    )
    if not result.rowcount:
        raise NotFoundError(f"model {model!r} is not a member of pool {pool!r}")
    await bump(connection)
    return await read_pool(connection, pool)


async def is_pool(connection: AsyncConnection, name: str) -> bool:
    return await connection.scalar(select(pools.c.id).where(pools.c.name == name)) is not None


async def pools_of_model(connection: AsyncConnection, model_id: int) -> list[str]:
    """The names of the pools `model_id` is a member of, sorted."""
    statement = (
        select(pools.c.name)
        .join_from(pool_members, pools, pool_members.c.pool_id == pools.c.id)
        .where(pool_members.c.model_id == model_id)
        .order_by(pools.c.name)
    )
    return list((await connection.scalars(statement)).all())


async def _with_members(
    connection: AsyncConnection, rows: Sequence[RowMapping]
) -> tuple[PoolRow, ...]:
    if not rows:
        return ()
    statement: Select[Any] = _MEMBERS.where(pool_members.c.pool_id.in_([r["id"] for r in rows]))
    members: dict[int, list[PoolMemberRow]] = {row["id"]: [] for row in rows}
    for member in (await connection.execute(statement)).mappings():
        members[member["pool_id"]].append(
            PoolMemberRow(member["model"], member["priority"], member["weight"])
        )
    return tuple(
        PoolRow(
            name=row["name"],
            match_when=_as_json(row["match_when"] or {}),
            strategy=row["strategy"],
            order=row["sort_order"],
            # Sorted here, not by SQL: collations differ between SQLite and PostgreSQL.
            members=tuple(sorted(members[row["id"]], key=_member_order)),
            created_at=row["created_at"],
        )
        for row in rows
    )


def _member_order(member: PoolMemberRow) -> tuple[int, str]:
    return member.priority, member.model


def _as_json(match_when: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    return {str(key): [str(value) for value in values] for key, values in match_when.items()}
