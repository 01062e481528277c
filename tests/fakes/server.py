"""Serving an ASGI app with uvicorn on 127.0.0.1 from a background thread.

Owns the thread, its event loop and the listening socket; never touches global
logging or signal handlers (uvicorn skips signals off the main thread).
"""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0
GRACEFUL_SHUTDOWN = 2
"""Seconds uvicorn lets in-flight responses finish before cancelling them."""
_STARTUP_POLL = 0.01


class ServerStartError(RuntimeError):
    """The background uvicorn server did not start listening."""


class ServedApp:
    """One ASGI app served over real loopback TCP on a free port.

    The socket is bound before the thread starts, so `url` is known at once.
    """

    def __init__(self, app: ASGIApp) -> None:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on connections whose
        # socket says so, and without it Nagle holds the body behind the headers for a
        # delayed ACK (about 40 ms per response on Linux loopback).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind((HOST, 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}"
        config = uvicorn.Config(
            app,
            loop="asyncio",
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"fake-upstream-{self.port}",
            daemon=True,
        )

    def start(self) -> None:
        """Start serving; return once uvicorn accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                message = f"uvicorn did not start on {self.url}"
                raise ServerStartError(message)
            time.sleep(_STARTUP_POLL)

    def stop(self) -> None:
        """Ask uvicorn to exit, wait for the thread, and close the socket."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(SHUTDOWN_TIMEOUT)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(SHUTDOWN_TIMEOUT)
        self._socket.close()


@contextmanager
def serve_app(app: ASGIApp) -> Iterator[ServedApp]:
    """Serve `app` on 127.0.0.1 for the duration of the `with` block."""
    served = ServedApp(app)
    served.start()
    try:
        yield served
    finally:
        served.stop()
