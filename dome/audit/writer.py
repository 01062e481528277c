"""The audit writer: records are sealed into this process's hash chain and written in
batches by one background task, off the hot path.

A call hands its records over without waiting (`submit`). Its start, which must be
durable before a provider sees the call, goes to the start journal (`started`: one
write system call, dome.audit.journal); it is stored only if the call never ends, after
a crash. A batch that fails is kept, sealed as it was, and retried, so a database hiccup
delays records, it does not lose them or fork the chain. `close()` drains everything
submitted, which is what makes a SIGTERM (lifespan shutdown) lose nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from dome.audit.chain import Chain
from dome.audit.journal import JournalError, StartJournal
from dome.errors import DomeError
from dome.store.records import AuditRow, SealedAuditRow

logger = logging.getLogger("dome.audit")

AuditSink = Callable[[Sequence[SealedAuditRow]], Awaitable[None]]


class AuditUnavailableError(DomeError):
    """The start of a call could not be made durable: the call is not sent."""

    status_code = 503
    error_type = "api_error"
    outcome = "audit_unavailable"
    retry_after = 5


class AuditWriter:
    def __init__(
        self,
        sink: AuditSink,
        chain: Chain,
        journal: StartJournal,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.2,
        retry_delay: float = 1.0,
        max_backlog: int = 2000,
        room_timeout: float = 5.0,
    ) -> None:
        self._sink = sink
        self._chain = chain
        self._journal = journal
        self._pending: deque[AuditRow] = deque()
        # A sealed batch that failed, retried before anything newer (chain order).
        self._unwritten: list[SealedAuditRow] = []
        self._wakeup = asyncio.Event()
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._retry_delay = retry_delay
        self._max_backlog = max_backlog
        self._room_timeout = room_timeout
        self._drained = asyncio.Event()  # set after each batch is written
        self._closing = False
        self.written = 0

    @property
    def chain_id(self) -> str:
        return self._chain.id

    @property
    def chain_key(self) -> bytes:
        """What `dome audit verify` checks every chain with."""
        return self._chain.key

    @property
    def backlog(self) -> int:
        return len(self._pending) + len(self._unwritten)

    def submit(self, row: AuditRow) -> None:
        """Queue one record; never blocks the call that made it. Written with the next
        batch, at most `flush_interval` later."""
        self._pending.append(row)
        if len(self._pending) >= self._batch_size:
            self._wakeup.set()

    async def room(self) -> None:
        """Wait while the queue is over `max_backlog` records: under saturation calls
        are admitted as fast as the store takes their records, and memory stays bounded
        instead of the queue growing without end. Free when there is room.

        Raises:
            AuditUnavailableError: no batch was written for `room_timeout` seconds (the
                store is down): the call is refused rather than left hanging.
        """
        while len(self._pending) >= self._max_backlog and not self._closing:
            self._wakeup.set()
            self._drained.clear()
            try:
                await asyncio.wait_for(self._drained.wait(), self._room_timeout)
            except TimeoutError as exc:
                msg = "the broker cannot record calls in its audit log right now"
                raise AuditUnavailableError(msg) from exc

    def started(self, row: AuditRow) -> None:
        """Make a call's start durable (in the start journal) before it goes upstream.

        Raises:
            AuditUnavailableError: the journal cannot be written; refuse the call.
        """
        try:
            self._journal.started(row)
        except JournalError as exc:
            logger.exception("audit: the start journal cannot be written")
            msg = "the broker cannot record this call in its audit log right now"
            raise AuditUnavailableError(msg) from exc

    async def flush(self) -> None:
        """Write everything queued now (startup recovery); raises if the store fails."""
        if not await self._flush_all(retry=False):
            msg = "the audit store did not take the records"
            raise AuditUnavailableError(msg)

    async def run(self) -> None:
        """Flush until `close()`; meant to run as one task for the process lifetime."""
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._flush_interval)
            self._wakeup.clear()
            await self._flush_all(retry=True)

    async def close(self) -> None:
        """Stop the loop and write what is left; retries a few times before giving up.
        Then the journal is closed: it keeps the starts of calls not stored as ended."""
        self._closing = True
        self._wakeup.set()
        try:
            for _ in range(5):
                if await self._flush_all(retry=False):
                    return
                await asyncio.sleep(self._retry_delay)
            logger.error("audit: %d records could not be written at shutdown", self.backlog)
        finally:
            self._journal.close()

    async def _flush_all(self, *, retry: bool) -> bool:
        while self._unwritten or self._pending:
            if not self._unwritten:
                count = min(self._batch_size, len(self._pending))
                self._unwritten = [self._chain.seal(self._pending.popleft()) for _ in range(count)]
            batch = self._unwritten
            try:
                await self._sink(batch)
            except Exception:
                logger.exception("audit: writing %d records failed; will retry", len(batch))
                if retry:
                    await asyncio.sleep(self._retry_delay)
                return False
            self._unwritten = []
            self.written += len(batch)
            self._drained.set()
            self._journal.ended([s.row.call_id for s in batch if s.row.kind == "call"])
        return True
