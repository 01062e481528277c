"""Running the broker under uvicorn (uvloop + httptools, chosen by bench/)."""

from __future__ import annotations

import logging

import uvicorn

from dome.server.app import create_app
from dome.server.bootstrap import write_broker_url
from dome.settings import Settings


def serve_forever(settings: Settings) -> None:
    # Our own loggers at the chosen level; libraries (SQL drivers are chatty at
    # debug) stay at warning.
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("dome").setLevel(settings.log_level.upper())
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_broker_url(settings.data_dir, f"http://{settings.host}:{settings.port}")
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        timeout_graceful_shutdown=30,
    )
    uvicorn.Server(config).run()
