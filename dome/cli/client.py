"""A small synchronous client of the admin API (`/admin/v1/*`): JSON in, JSON out.

It maps transport failures and error bodies to `dome.cli.errors` at this one boundary;
no message it builds contains the admin token.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self
from urllib.parse import quote

import httpx

from dome.cli.connection import TOKEN_FILE, TOKEN_VAR, Connection
from dome.cli.errors import (
    AdminApiError,
    BrokerUnreachableError,
    ConnectionSettingsError,
)

JsonObject = dict[str, object]

ADMIN_PREFIX = "/admin/v1"
# Master-key rotation re-encrypts every ciphertext in one call, so reads get room.
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def admin_path(*segments: str) -> str:
    """Build `/admin/v1/<segments>`, each percent-encoded (names may hold anything)."""
    return "/".join([ADMIN_PREFIX, *(quote(segment, safe="") for segment in segments)])


class AdminClient:
    """One admin API session; a context manager, so the connection pool gets closed."""

    def __init__(
        self, connection: Connection, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._url = _display_url(connection.url)
        try:
            self._http = httpx.Client(
                base_url=connection.url,
                headers={"Authorization": f"Bearer {connection.token}"},
                transport=transport,
                timeout=TIMEOUT,
            )
        except httpx.InvalidURL as exc:
            raise ConnectionSettingsError(f"the broker URL {self._url!r} is invalid") from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._http.close()

    def get(self, path: str, *, params: dict[str, int] | None = None) -> JsonObject:
        return _as_object(self._request("GET", path, params=params))

    def get_list(self, path: str, *, params: dict[str, int] | None = None) -> list[JsonObject]:
        """Return a listing's `data` array (lists come as `{"data": [...]}`)."""
        data = self.get(path, params=params).get("data")
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise AdminApiError(
                "the broker sent a listing without a 'data' array",
                status_code=200,
                error_type="bad_response",
            )
        return data

    def post(self, path: str, body: JsonObject | None = None) -> JsonObject:
        return _as_object(self._request("POST", path, body=body))

    def put(self, path: str, body: JsonObject) -> JsonObject:
        return _as_object(self._request("PUT", path, body=body))

    def patch(self, path: str, body: JsonObject) -> JsonObject:
        return _as_object(self._request("PATCH", path, body=body))

    def delete(self, path: str) -> None:
        self._request("DELETE", path)

    def delete_json(self, path: str) -> JsonObject:
        """DELETE for endpoints that answer with a body (e.g. the new policy version)."""
        return _as_object(self._request("DELETE", path))

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: JsonObject | None = None,
        params: dict[str, int] | None = None,
    ) -> object:
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.RequestError as exc:
            raise self._transport_error(exc) from exc
        if response.is_error:
            raise _api_error(response)
        if response.status_code == httpx.codes.NO_CONTENT or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise AdminApiError(
                f"the broker answered {response.status_code} with a non-JSON body",
                status_code=response.status_code,
                error_type="bad_response",
            ) from exc

    def _transport_error(self, exc: httpx.RequestError) -> Exception:
        """Map an httpx failure to the CLI error a user can act on."""
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return BrokerUnreachableError(
                f"cannot reach the broker at {self._url} (is 'dome serve' running?)"
            )
        if isinstance(exc, httpx.TimeoutException):
            return BrokerUnreachableError(f"the broker at {self._url} did not answer in time")
        if isinstance(exc, httpx.UnsupportedProtocol):
            return ConnectionSettingsError(
                f"the broker URL {self._url!r} is not an http:// or https:// URL"
            )
        return BrokerUnreachableError(
            f"the connection to the broker at {self._url} failed ({type(exc).__name__})"
        )


def _api_error(response: httpx.Response) -> AdminApiError:
    """Read `{"error": {"type", "message"}}`; fall back to the status line."""
    message = f"the broker answered {response.status_code} {response.reason_phrase}"
    error_type = "unknown"
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        message = str(error.get("message") or message)
        error_type = str(error.get("type") or error_type)
    if response.status_code == httpx.codes.UNAUTHORIZED:
        message += f" (check {TOKEN_VAR} or <data-dir>/{TOKEN_FILE})"
    return AdminApiError(message, status_code=response.status_code, error_type=error_type)


def _as_object(value: object) -> JsonObject:
    if not isinstance(value, dict):
        raise AdminApiError(
            "the broker sent an answer that is not a JSON object",
            status_code=200,
            error_type="bad_response",
        )
    return value


def _display_url(url: str) -> str:
    """Return the URL without any user:password part, fit for messages."""
    try:
        return str(httpx.URL(url).copy_with(username=None, password=None))
    except (httpx.InvalidURL, TypeError):
        return "<invalid URL>"
