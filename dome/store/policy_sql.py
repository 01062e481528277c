"""Policy version queries: publish the next version, list them, read one or the newest.
Plain functions over a connection; `SqlStore` owns the transactions, and publishing runs
under its config lock, which is what keeps version numbers distinct across processes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Select, func, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from dome.store.records import PolicyRecord, PolicyVersion, PolicyVersionSummary
from dome.store.schema import policy_versions

_VERSIONS = select(
    policy_versions.c.version,
    policy_versions.c.created_at,
    policy_versions.c.note,
    policy_versions.c.policies,
    policy_versions.c.digest,
)


def policy_digest(policies: Sequence[PolicyRecord]) -> str:
    """The sha256 (hex) of the policies as canonical JSON: in their order, keys sorted.

    Equal sets of records in equal order always give the same digest, on any process.
    """
    canonical = orjson.dumps([_as_json(policy) for policy in policies], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def publish(
    connection: AsyncConnection, policies: Sequence[PolicyRecord], note: str, now: datetime
) -> int:
    """Insert the next version after the newest; the caller holds the config lock."""
    newest = await connection.scalar(select(func.max(policy_versions.c.version)))
    version = int(newest or 0) + 1
    await connection.execute(
        insert(policy_versions).values(
            version=version,
            created_at=now,
            note=note,
            policies=[_as_json(policy) for policy in policies],
            digest=policy_digest(policies),
        )
    )
    return version


async def summaries(connection: AsyncConnection) -> list[PolicyVersionSummary]:
    """Every version without its policy text, newest first."""
    statement = select(
        policy_versions.c.version,
        policy_versions.c.created_at,
        policy_versions.c.note,
        # Both SQLite (JSON1) and PostgreSQL name this function the same.
        func.json_array_length(policy_versions.c.policies).label("count"),
        policy_versions.c.digest,
    ).order_by(policy_versions.c.version.desc())
    result = await connection.execute(statement)
    return [PolicyVersionSummary(**row) for row in result.mappings()]


async def one(connection: AsyncConnection, version: int) -> PolicyVersion | None:
    return await _first(connection, _VERSIONS.where(policy_versions.c.version == version))


async def newest(connection: AsyncConnection) -> PolicyVersion | None:
    statement = _VERSIONS.order_by(policy_versions.c.version.desc()).limit(1)
    return await _first(connection, statement)


async def _first(
    connection: AsyncConnection, statement: Select[tuple[Any, ...]]
) -> PolicyVersion | None:
    row = (await connection.execute(statement)).mappings().first()
    return None if row is None else _version(row)


def _version(row: RowMapping) -> PolicyVersion:
    return PolicyVersion(
        version=row["version"],
        created_at=row["created_at"],
        note=row["note"],
        policies=tuple(_from_json(item) for item in row["policies"]),
        digest=row["digest"],
    )


def _as_json(policy: PolicyRecord) -> dict[str, str]:
    return {"id": policy.id, "scope": policy.scope, "text": policy.text, "file": policy.file}


def _from_json(item: dict[str, Any]) -> PolicyRecord:
    return PolicyRecord(
        id=str(item["id"]), scope=str(item["scope"]), text=str(item["text"]), file=str(item["file"])
    )
