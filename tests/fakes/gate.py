"""The stream gate: lets a test hold fake streams after their first event.

The fake server runs on its own thread and event loop, so the gate is built on
`threading.Event`s that the server side polls with short asyncio sleeps; a test
on any thread may block or release it.
"""

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

POLL_INTERVAL = 0.005
"""Seconds between the server side's looks at a blocked gate."""

MAX_HOLD = 30.0
"""Seconds after which a forgotten gate lets its stream go on anyway."""


class StreamGate:
    """Open by default; while blocked, every stream pauses after its first event.

    Typical use, from a test thread::

        with fake.stream_gate.hold() as gate:
            ...start a streaming request, read its first event...
            assert gate.wait_held()
            gate.release()
    """

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        self._held = threading.Event()

    @property
    def is_blocked(self) -> bool:
        return not self._open.is_set()

    def block(self) -> None:
        """Hold every stream that sends its first event from now on."""
        self._held.clear()
        self._open.clear()

    def release(self) -> None:
        """Let held and future streams continue."""
        self._open.set()

    @contextmanager
    def hold(self) -> Iterator[Self]:
        """Block for the duration of the `with` block; always release on exit."""
        self.block()
        try:
            yield self
        finally:
            self.release()

    def wait_held(self, timeout: float = 5.0) -> bool:
        """Wait until a stream is paused at the blocked gate; False on timeout."""
        return self._held.wait(timeout)

    async def passage(self) -> None:
        """Server side: return once the gate is open (or `MAX_HOLD` has passed)."""
        if self._open.is_set():
            return
        self._held.set()
        deadline = time.monotonic() + MAX_HOLD
        # A threading.Event, not asyncio.Event: the releasing test runs on
        # another thread and must not touch this loop.
        while not self._open.is_set() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(POLL_INTERVAL)
