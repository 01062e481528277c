"""Sample rows and helpers shared by the store's contract tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dome.audit import Chain
from dome.store import AuditRow, ModelRow, SealedAuditRow, Store

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
HASH_A = "a" * 64
HASH_B = "b" * 64

Write = Callable[[], Awaitable[object]]


def model(name: str = "claude", credential: bytes | None = b"ct-1") -> ModelRow:
    return ModelRow(
        name=name,
        provider="anthropic",
        model="claude-sonnet-4-6",
        base_url="https://upstream.test",
        auth_method="api-key" if credential else "none",
        credential_type="shared" if credential else "none",
        credential=credential,
        options={"max_tokens": 1024, "tags": ["a", "b"], "nested": {"x": None}},
    )


def audit_row(call_id: str, started_at: datetime, **changes: object) -> AuditRow:
    row = AuditRow(
        call_id=call_id,
        started_at=started_at,
        agent="agent-1",
        workspace="ws",
        tenant="acme",
        endpoint="chat",
        requested_model="gpt",
        served_model="gpt-4o-2024",
        model_entry="gpt",
        provider="openai",
        format_in="openai",
        format_out="openai",
        stream=True,
        status=200,
        error_type=None,
        latency_ms=12.5,
        ttft_ms=3.25,
        input_tokens=10,
        output_tokens=20,
        usage={"prompt_tokens": 10, "completion_tokens": 20, "details": {"cached": 0}},
    )
    return replace(row, **changes)  # type: ignore[arg-type]


AUDIT_KEY = b"audit-test-key-0123456789abcdef!"


def sealed(rows: Sequence[AuditRow], chain: Chain | None = None) -> list[SealedAuditRow]:
    """`rows` sealed in order into `chain` (a fresh one by default), as the writer does."""
    chain = chain or Chain(AUDIT_KEY)
    return [chain.seal(row) for row in rows]


async def seed(store: Store) -> None:
    await store.create_tenant("acme")
    await store.create_workspace("ws", "acme")
    await store.create_agent("agent-1", "ws", HASH_A, "dome_aaa")


def assert_utc(value: datetime | None) -> None:
    assert value is not None
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
