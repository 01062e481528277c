"""The broker's exception tree; wire facts (status, error type) live on the classes.

    DomeError
    ├── RequestError             the caller's fault; never retried
    │   ├── InvalidRequestError      400 malformed body, missing field
    │   ├── UnauthenticatedError     401 unknown or revoked token
    │   ├── PermissionDeniedError    403
    │   │   ├── PolicyDeniedError        403 a Cedar policy denied the call
    │   │   └── UnpricedModelError       403 a USD ceiling applies, the model has no price
    │   ├── NotFoundError            404 unknown model or route
    │   ├── ConflictError            409 name already taken
    │   ├── RequestTooLargeError     413 body over the limit
    │   ├── BudgetExceededError      429 a spend ceiling would be exceeded (Retry-After)
    │   └── UnsupportedError         400 a feature the target cannot carry
    ├── UpstreamError            the provider's side; some are retryable
    │   ├── UpstreamUnavailableError 502 connect refused, reset, bad answer
    │   ├── NoCandidateAvailableError 503 every pool member is resting
    │   ├── UpstreamTimeoutError     504
    │   └── UpstreamStreamError      stream died or ended without its terminal event
    ├── BudgetUnavailableError   503 the budget counters cannot be reached (fail closed)
    └── ConfigError              bad settings or operator config; startup or admin API

Error *rendering* is format-specific and lives in `dome.wire`; these classes only
carry the facts. Messages never contain secrets: callers must not format them in.
"""

from __future__ import annotations

from typing import ClassVar


class DomeError(Exception):
    """Root of every error the broker raises on purpose."""

    status_code: ClassVar[int] = 500
    error_type: ClassVar[str] = "api_error"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class RequestError(DomeError):
    status_code = 400
    error_type = "invalid_request_error"


class InvalidRequestError(RequestError):
    pass


class UnsupportedError(RequestError):
    pass


class UnauthenticatedError(RequestError):
    status_code = 401
    error_type = "authentication_error"


class PermissionDeniedError(RequestError):
    status_code = 403
    error_type = "permission_error"


class PolicyDeniedError(PermissionDeniedError):
    """Cedar policy denied the call; `policy_ids` are the deciding policies (may be none)."""

    def __init__(self, message: str, *, policy_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.policy_ids = policy_ids


class NotFoundError(RequestError):
    status_code = 404
    error_type = "not_found_error"


class ConflictError(RequestError):
    status_code = 409
    error_type = "conflict_error"


class RequestTooLargeError(RequestError):
    status_code = 413
    error_type = "request_too_large"


class UpstreamError(DomeError):
    status_code = 502
    error_type = "api_error"
    retryable = True


class UpstreamUnavailableError(UpstreamError):
    pass


class NoCandidateAvailableError(UpstreamError):
    """Every candidate of a pool is resting (Retry-After, open circuit): fail fast."""

    status_code = 503
    error_type = "overloaded_error"


class UpstreamTimeoutError(UpstreamError):
    status_code = 504
    error_type = "timeout_error"


class UpstreamStreamError(UpstreamError):
    """The upstream stream broke after it started: cut, or ended without its end event."""


class UnpricedModelError(PermissionDeniedError):
    """A USD ceiling applies to the call but its model has no price: the operator must
    set one, since the broker cannot charge what it cannot price."""


class BudgetExceededError(RequestError):
    """The call would exceed the ceiling `ceiling_id`; `retry_after` is the number of
    seconds until its window resets (None: a total ceiling never resets)."""

    status_code = 429
    error_type = "budget_exceeded"

    def __init__(self, message: str, *, ceiling_id: str, retry_after: int | None) -> None:
        super().__init__(message)
        self.ceiling_id = ceiling_id
        self.retry_after = retry_after


class BudgetUnavailableError(DomeError):
    """The budget counters could not be reached: the call is refused, not waved through.

    Neither the caller's fault nor the provider's, hence directly under the root.
    """

    status_code = 503
    error_type = "overloaded_error"
    retryable = True

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConfigError(DomeError):
    status_code = 400
    error_type = "invalid_request_error"
