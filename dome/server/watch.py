"""Noticing config changes made by other processes: poll the store's version number.

A change made through this process's admin API is applied at once by the handler;
this loop covers the others, within `config_poll_seconds` (default 1 s).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dome.server.runtime import Runtime

logger = logging.getLogger("dome.server")


async def watch_config(runtime: Runtime) -> None:
    interval = runtime.settings.config_poll_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            version = await runtime.store.config_version()
            if version != runtime.snapshot.version:
                await runtime.reload()
        except asyncio.CancelledError:
            raise
        except Exception:
            # A failed poll keeps the current snapshot serving; the next poll retries.
            logger.exception("config poll failed")
