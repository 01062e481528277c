"""Config queries shared by `SqlStore`'s methods: the joined SELECTs, the row mappers,
the version counter and the UPDATE-then-read of one named row. Plain values and functions
over a connection; `SqlStore` owns the transactions and the config lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, bindparam, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from dome.errors import NotFoundError
from dome.store.dialects import upsert
from dome.store.records import AgentRow, AgentStatus, ModelRow, Unset
from dome.store.schema import agents, config_version, keys, models, tenants, workspaces

AGENTS = select(
    agents.c.name,
    workspaces.c.name.label("workspace"),
    agents.c.token_hash,
    agents.c.token_prefix,
    agents.c.status,
    agents.c.created_at,
    agents.c.revoked_at,
    agents.c.labels,
    agents.c.classification_default,
    agents.c.classification_floor,
).join_from(agents, workspaces, agents.c.workspace_id == workspaces.c.id)

TENANTS = select(tenants.c.name, tenants.c.created_at, tenants.c.region)

WORKSPACES = select(
    workspaces.c.name,
    tenants.c.name.label("tenant"),
    workspaces.c.created_at,
    workspaces.c.residency,
    workspaces.c.max_classification,
    workspaces.c.classification_default,
    workspaces.c.classification_floor,
    workspaces.c.region,
).join_from(workspaces, tenants, workspaces.c.tenant_id == tenants.c.id)

MODEL_COLUMNS = (
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
    "region",
    "tier",
    "family",
    "input_price",
    "output_price",
)
MODELS = select(*(models.c[name] for name in MODEL_COLUMNS))


def given(**values: object) -> dict[str, Any]:
    """The keyword arguments that are not `UNSET`."""
    return {name: value for name, value in values.items() if not isinstance(value, Unset)}


async def read_version(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(config_version.c.version)) or 0)


async def bump(connection: AsyncConnection) -> None:
    await connection.execute(update(config_version).values(version=config_version.c.version + 1))


async def id_of(connection: AsyncConnection, table: Table, kind: str, name: str) -> int:
    found = await connection.scalar(select(table.c.id).where(table.c.name == name))
    if found is None:
        raise NotFoundError(f"{kind} {name!r} not found")
    return int(found)


async def replace_credentials(
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


async def replace_keys(connection: AsyncConnection, rows: Sequence[tuple[str, bytes]]) -> None:
    statement = upsert(connection.dialect.name, keys, ["name"], ["value"])
    await connection.execute(statement, [{"name": name, "value": value} for name, value in rows])


def agent_row(row: RowMapping) -> AgentRow:
    return AgentRow(
        name=row["name"],
        workspace=row["workspace"],
        token_hash=row["token_hash"],
        token_prefix=row["token_prefix"],
        status=_status(row["status"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        labels=tuple(row["labels"] or ()),
        classification_default=row["classification_default"],
        classification_floor=row["classification_floor"],
    )


def _status(value: object) -> AgentStatus:
    if value == "active":
        return "active"
    if value == "revoked":
        return "revoked"
    msg = f"unknown agent status {value!r} in the database"
    raise ValueError(msg)


def model_row(row: RowMapping) -> ModelRow:
    values = dict(row)
    credential = values["credential"]
    values["credential"] = None if credential is None else bytes(credential)
    return ModelRow(**values)


async def update_named(
    connection: AsyncConnection,
    table: Table,
    kind: str,
    name: str,
    values: dict[str, Any],
    read: Select[Any],
) -> RowMapping:
    """UPDATE the row of `table` called `name` with `values` (nothing when empty) and
    bump the version if it exists, then read it back through `read`.

    Raises `NotFoundError` naming `kind` when there is no such row; the caller's
    transaction then holds no change.
    """
    if values:
        result = await connection.execute(
            update(table).where(table.c.name == name).values(**values)
        )
        if result.rowcount:
            await bump(connection)
    found = await connection.execute(read.where(table.c.name == name))
    row: RowMapping | None = found.mappings().first()
    if row is None:
        raise NotFoundError(f"{kind} {name!r} not found")
    return row
