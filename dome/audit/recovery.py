"""At start: the calls a dead broker process left without an end become `call_started`
records, so the audit shows them (outcome `incomplete` in `llm_calls`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from dome.audit.journal import orphans
from dome.audit.writer import AuditWriter

logger = logging.getLogger("dome.audit")

EndedCalls = Callable[[Sequence[str]], Awaitable[set[str]]]


async def recover_orphans(directory: Path, ended_calls: EndedCalls, writer: AuditWriter) -> int:
    """Store the starts without an end from every dead writer's journal; returns how
    many. The journals are deleted only once those records are committed."""
    found = orphans(directory)
    if not found.files:
        return 0
    ended = await ended_calls([row.call_id for row in found.starts])
    lost = [row for row in found.starts if row.call_id not in ended]
    for row in lost:
        writer.submit(row)
    await writer.flush()
    found.discard()
    if lost:
        logger.warning("audit: %d calls of a stopped broker process never ended", len(lost))
    return len(lost)
