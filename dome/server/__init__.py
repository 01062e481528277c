"""The ASGI server: agent plane /v1/*, control plane /admin/v1/*, /healthz."""

from dome.server.app import BrokerApp, create_app
from dome.server.run import serve_forever

__all__ = ["BrokerApp", "create_app", "serve_forever"]
