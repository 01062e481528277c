"""The audit writer: calls hand records over without waiting; a background task
writes them to the store in batches.

A failed batch is kept and retried, so a database hiccup delays records, it does not
lose them. `close()` drains everything that was submitted, which is what makes a
SIGTERM (lifespan shutdown) lose nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from dome.store.records import AuditRow

logger = logging.getLogger("dome.audit")

AuditSink = Callable[[Sequence[AuditRow]], Awaitable[None]]


class AuditWriter:
    def __init__(
        self,
        sink: AuditSink,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.2,
        retry_delay: float = 1.0,
    ) -> None:
        self._sink = sink
        self._pending: deque[AuditRow] = deque()
        self._wakeup = asyncio.Event()
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._retry_delay = retry_delay
        self._closing = False
        self.written = 0

    @property
    def backlog(self) -> int:
        return len(self._pending)

    def submit(self, row: AuditRow) -> None:
        """Queue one record; never blocks the call that made it."""
        self._pending.append(row)
        if len(self._pending) >= self._batch_size:
            self._wakeup.set()

    async def run(self) -> None:
        """Flush until `close()`; meant to run as one task for the process lifetime."""
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._flush_interval)
            self._wakeup.clear()
            await self._flush_all(retry=True)

    async def close(self) -> None:
        """Stop the loop and write what is left; retries a few times before giving up."""
        self._closing = True
        self._wakeup.set()
        for _ in range(5):
            if await self._flush_all(retry=False):
                return
            await asyncio.sleep(self._retry_delay)
        logger.error("audit: %d records could not be written at shutdown", len(self._pending))

    async def _flush_all(self, *, retry: bool) -> bool:
        while self._pending:
            batch = [self._pending[i] for i in range(min(self._batch_size, len(self._pending)))]
            try:
                await self._sink(batch)
            except Exception:
                logger.exception("audit: writing %d records failed; will retry", len(batch))
                if retry:
                    await asyncio.sleep(self._retry_delay)
                return False
            for _ in batch:
                self._pending.popleft()
            self.written += len(batch)
        return True
