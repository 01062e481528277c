"""Running the real broker for tests: in a thread on a loopback port, or as `dome serve`.

Both use a fresh data directory, so each broker has its own master key, admin token
and SQLite store unless a database URL is given.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from dome import settings as settings_module
from dome.server import BrokerApp, create_app

HOST = "127.0.0.1"
PERMIT_ALL = '@id("test.permit-all")\npermit(principal, action, resource);\n'


@dataclass
class AdminClient:
    """A thin admin API client for test setup (the CLI has its own tests)."""

    url: str
    token: str

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        response = httpx.request(
            method,
            self.url + "/admin/v1" + path,
            json=body,
            headers={"authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def rules(self, text: str, *, file: str = "test.cedar", scope: str = "platform") -> Any:
        """Apply a rules file; returns the admin API's answer (version, flips, ...)."""
        return self.call("POST", "/rules/apply", {"file": file, "text": text, "scope": scope})

    def permit_all(self) -> None:
        """Tests about something other than policy start from "everything is permitted":
        the broker itself denies by default."""
        self.rules(PERMIT_ALL, file="permit-all.cedar")

    def agent(self, name: str, workspace: str = "ws", tenant: str = "t") -> str:
        """Create tenant/workspace if missing and a new agent; returns its token."""
        tenants = {row["name"] for row in self.call("GET", "/tenants")["data"]}
        if tenant not in tenants:
            self.call("POST", "/tenants", {"name": tenant})
        workspaces = {row["name"] for row in self.call("GET", "/workspaces")["data"]}
        if workspace not in workspaces:
            self.call("POST", "/workspaces", {"name": workspace, "tenant": tenant})
        return str(self.call("POST", "/agents", {"name": name, "workspace": workspace})["token"])

    def model(self, name: str, provider: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", "/models", {"name": name, "provider": provider, **fields}
        )
        return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class ThreadedBroker:
    """The broker app under uvicorn in a background thread, lifespan on."""

    def __init__(self, data_dir: Path, environ: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.data_dir = data_dir
        self.settings = settings_module.load(
            {"DOME_CONFIG_POLL_SECONDS": "0.2", **(environ or {})},
            data_dir=data_dir,
            host=HOST,
            port=self.port,
        )
        self.app: BrokerApp = create_app(self.settings)
        config = uvicorn.Config(
            self.app,
            host=HOST,
            port=self.port,
            loop="asyncio",
            lifespan="on",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def admin(self) -> AdminClient:
        token = (self.data_dir / "admin-token").read_text().strip()
        return AdminClient(self.url, token)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("broker did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(20)


@contextmanager
def threaded_broker(
    data_dir: Path, environ: Mapping[str, str] | None = None
) -> Iterator[ThreadedBroker]:
    broker = ThreadedBroker(data_dir, environ)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


class BrokerProcess:
    """`dome serve` as a real child process."""

    def __init__(self, data_dir: Path, environ: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.data_dir = data_dir
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOME_")}
        env.update({"DOME_CONFIG_POLL_SECONDS": "0.5", **(environ or {})})
        # Output goes to files, not pipes: an unread pipe fills and blocks the broker.
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dome.cli",
                "serve",
                "--data-dir",
                str(data_dir),
                "--host",
                HOST,
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=self._out,
            stderr=self._err,
        )

    def output(self) -> tuple[str, str]:
        self._out.seek(0)
        self._err.seek(0)
        return self._out.read().decode(), self._err.read().decode()

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.url, (self.data_dir / "admin-token").read_text().strip())

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"broker exited: {self.output()[1]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("broker did not become ready")

    def terminate(self, timeout: float = 30) -> tuple[str, str]:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=timeout)
        output = self.output()
        self.close()
        return output

    def close(self) -> None:
        """Release the output files (the process must have ended)."""
        self._out.close()
        self._err.close()
