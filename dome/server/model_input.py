"""Validating a model entry sent to the admin API, before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dome.errors import InvalidRequestError
from dome.providers.registry import PROVIDER_KINDS

AUTH_METHODS = frozenset({"api-key", "none"})
CREDENTIAL_TYPES = frozenset({"shared", "none"})
_KEY_REQUIRED = frozenset({"openai", "anthropic"})
_KEYLESS = frozenset({"mock"})
_ALLOWED_FIELDS = frozenset(
    {"name", "provider", "model", "base_url", "auth_method", "credential_type", "credential"}
)


@dataclass(frozen=True, slots=True)
class ModelInput:
    name: str
    provider: str
    model: str
    base_url: str | None
    auth_method: str
    credential_type: str
    credential: str | None

    def __repr__(self) -> str:
        return f"ModelInput(name={self.name!r}, provider={self.provider!r})"


def read_model_input(body: dict[str, Any]) -> ModelInput:
    unknown = sorted(set(body) - _ALLOWED_FIELDS)
    if unknown:
        raise InvalidRequestError(f"{unknown[0]}: unknown field", param=unknown[0])
    name = _string(body, "name", required=True)
    provider = _string(body, "provider", required=True)
    if provider not in PROVIDER_KINDS:
        known = ", ".join(sorted(PROVIDER_KINDS))
        raise InvalidRequestError(f"provider: unknown kind {provider!r} (known: {known})")
    credential = _string(body, "credential", required=False)
    default_auth = "api-key" if provider in _KEY_REQUIRED or credential else "none"
    auth_method = _string(body, "auth_method", required=False) or default_auth
    credential_type = _string(body, "credential_type", required=False) or (
        "shared" if credential else "none"
    )
    base_url = _string(body, "base_url", required=False)
    checked = ModelInput(
        name=name or "",
        provider=provider or "",
        model=_string(body, "model", required=False) or name or "",
        base_url=base_url,
        auth_method=auth_method,
        credential_type=credential_type,
        credential=credential,
    )
    _check_rules(checked)
    return checked


def _check_rules(model: ModelInput) -> None:
    _check_credential_rules(model)
    if model.provider == "openai-compatible" and not model.base_url:
        raise InvalidRequestError("base_url: required for an openai-compatible provider")
    if model.base_url is not None:
        parts = urlsplit(model.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidRequestError("base_url: must be an http or https URL")


def _check_credential_rules(model: ModelInput) -> None:
    if model.auth_method not in AUTH_METHODS:
        raise InvalidRequestError(f"auth_method: must be one of {sorted(AUTH_METHODS)}")
    if model.credential_type not in CREDENTIAL_TYPES:
        raise InvalidRequestError(f"credential_type: must be one of {sorted(CREDENTIAL_TYPES)}")
    if model.provider in _KEY_REQUIRED and model.auth_method != "api-key":
        raise InvalidRequestError(f"auth_method: the {model.provider} provider needs api-key")
    if model.auth_method == "api-key" and not model.credential:
        raise InvalidRequestError("credential: required with auth_method api-key")
    if model.auth_method == "none" and model.credential:
        raise InvalidRequestError("credential: not used with auth_method none")
    if model.provider in _KEYLESS and model.credential:
        raise InvalidRequestError("credential: the mock provider takes no credential")
    if model.credential and model.credential_type != "shared":
        raise InvalidRequestError("credential_type: a credential must be 'shared'")


def _string(body: dict[str, Any], field: str, *, required: bool) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise InvalidRequestError(f"{field}: field required", param=field)
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{field}: expected a non-empty string", param=field)
    return value.strip() if field != "credential" else value
